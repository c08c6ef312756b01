import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { connectRemote, type RemoteHost } from '../../src/remote/client/index.js';
import { type ApiServer, sha256Hex, startApiServer } from '../../src/remote/server/index.js';
import { LINUX_IMAGE, LinuxSandboxHost } from './linux-sandbox-host.js';

/**
 * The real `hcs-sandbox serve` API server (src/remote/server/) on loopback,
 * over the Linux test backend (linux-sandbox-host.ts: sandboxes are folders,
 * commands are `sh -c` processes): what the remote client's tests talk to.
 */

export { LINUX_IMAGE };
/** The token of the `ci` entry (no quotas). */
export const TOKEN = 'client-test-token-0123456789';
/** The token of the `small` entry: one sandbox at a time. */
export const SMALL_TOKEN = 'client-test-small-token-0123456789';

export interface TestServe {
  url: string;
  backend: LinuxSandboxHost;
  api: ApiServer;
  /** The request log lines (NDJSON, parsed). */
  log: { method: string; route: string; sandbox?: string; status: number; code?: string }[];
  close(): Promise<void>;
}

export async function startTestServe(
  options: { leaseSeconds?: number; sweepMs?: number } = {},
): Promise<TestServe> {
  const root = mkdtempSync(join(tmpdir(), 'hcs-sandbox-serve-'));
  const backend = new LinuxSandboxHost(join(root, 'sandboxes'));
  const log: TestServe['log'] = [];
  const api = await startApiServer({
    host: '127.0.0.1',
    port: 0,
    backend: backend.backend(),
    tokens: {
      tokens: [
        { name: 'ci', sha256: sha256Hex(TOKEN) },
        { name: 'small', sha256: sha256Hex(SMALL_TOKEN), maxSandboxes: 1 },
      ],
    },
    root,
    version: '0.1.0-test',
    // A test's streams are its own: closing waits a moment for them, not the 10 s `serve`
    // gives its clients (the graceful stop has its own test).
    shutdownGraceMs: 500,
    log: (line) => log.push(JSON.parse(line) as TestServe['log'][number]),
    ...(options.leaseSeconds !== undefined && { leaseSeconds: options.leaseSeconds }),
    ...(options.sweepMs !== undefined && { sweepMs: options.sweepMs }),
  });
  return {
    url: api.url,
    backend,
    api,
    log,
    close: async () => {
      await api.close();
      for (const p of backend.liveProcesses()) p.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A test file's server and a client of it: started before its tests, every
 * sandbox removed after each one, stopped after the last. Read `server` and
 * `host` inside tests (they exist once `beforeAll` ran).
 */
export function useRemoteHost(): { readonly server: TestServe; readonly host: RemoteHost } {
  let server: TestServe | undefined;
  let host: RemoteHost | undefined;
  beforeAll(async () => {
    server = await startTestServe();
    host = await connectRemote({ url: server.url, token: TOKEN });
  });
  afterEach(async () => {
    if (!host) return;
    await host.close();
    for (const info of await host.list()) await (await host.open(info.name)).remove();
  });
  afterAll(async () => {
    await server?.close();
  }, 30_000);
  return {
    get server() {
      if (!server) throw new Error('the test server starts in beforeAll');
      return server;
    },
    get host() {
      if (!host) throw new Error('the test server starts in beforeAll');
      return host;
    },
  };
}

/**
 * Runs `body` against a throwaway HTTP server answering with `handler` (a
 * server that misbehaves as a test needs), closed afterwards whatever happens.
 */
export async function withFakeServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  body: (url: string, server: Server) => Promise<void>,
): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, server);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The URL of a port that was free a moment ago: nothing listens there. */
export async function deadUrl(): Promise<string> {
  let url = '';
  await withFakeServer(
    () => {},
    async (u) => {
      url = u;
    },
  );
  return url;
}
