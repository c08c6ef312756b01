import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  type ApiServer,
  type ApiServerOptions,
  sha256Hex,
  startApiServer,
  type TokenEntry,
} from '../../../src/remote/server/index.js';
import { LinuxSandboxHost } from '../../support/linux-sandbox-host.js';

/** Tokens every test server knows: alice (quotas), bob (none). */
export const ALICE = 'alice-token-0123456789abcdef0123456789abcdef';
export const BOB = 'bob-token-0123456789abcdef0123456789abcdef';
export const TOKENS: TokenEntry[] = [
  { name: 'alice', sha256: sha256Hex(ALICE), maxSandboxes: 3, maxMemoryMB: 4096, maxLifetimeSeconds: 3600 },
  { name: 'bob', sha256: sha256Hex(BOB) },
];

export interface TestServer {
  api: ApiServer;
  host: LinuxSandboxHost;
  root: string;
  logs: Record<string, unknown>[];
  /** fetch against the server with `token` as bearer (none when undefined). */
  call(
    path: string,
    init?: {
      method?: string;
      token?: string | undefined;
      body?: unknown;
      raw?: RequestInit['body'];
      headers?: Record<string, string>;
    },
  ): Promise<Response>;
  /** Restarts on the same store root (same leases file, same host). */
  restart(overrides?: Partial<ApiServerOptions>): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export async function startTestServer(overrides: Partial<ApiServerOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'serve-unit-'));
  const root = join(dir, 'store');
  mkdirSync(root, { mode: 0o700 });
  const host = new LinuxSandboxHost(join(dir, 'sandboxes'));
  const logs: Record<string, unknown>[] = [];
  const options = (): ApiServerOptions & { host: string; port: number } => ({
    backend: host.backend(),
    tokens: { tokens: TOKENS },
    root,
    version: '0.0.0-test',
    host: '127.0.0.1',
    port: 0,
    log: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    ...overrides,
  });
  const server: TestServer = {
    api: await startApiServer(options()),
    host,
    root,
    logs,
    call(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
      let body: RequestInit['body'] | undefined = init.raw;
      if (init.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(init.body);
      }
      return fetch(`${server.api.url}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(body !== undefined && { body, duplex: 'half' }),
      } as RequestInit);
    },
    async restart(more = {}) {
      await server.api.close();
      server.api = await startApiServer({ ...options(), ...more });
    },
  };
  cleanups.push(async () => {
    await server.api.close();
    for (const p of host.liveProcesses()) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return server;
}

/** Creates a sandbox as `token` and returns its name. */
export async function createSandbox(
  server: TestServer,
  token: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const res = await server.call('/v1/sandboxes', {
    method: 'POST',
    token,
    body: { image: 'local/base:1', ...body },
  });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { name: string }).name;
}
