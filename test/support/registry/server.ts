/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8)
 * serving from a temp folder on 127.0.0.1:<free port>, no auth. Installed by
 * test-host/prepare.sh; `apt-get install -y docker-registry` by hand.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REGISTRY_BINARY = process.env.HCS_TEST_REGISTRY_BINARY ?? '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:<port>`, the registry part of references. */
  host: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Everything the registry printed (access log included). */
  log(): string;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts the registry and waits (bounded) until `GET /v2/` answers. */
export async function startRegistry(options: { readyTimeoutMs?: number } = {}): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(
      `${REGISTRY_BINARY} is missing: run test-host/prepare.sh (or apt-get install -y docker-registry)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'hcs-test-registry-'));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  let lastError: unknown;
  // A port can be taken between freePort() and the registry's bind: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: info',
      '  accesslog:',
      '    disabled: false',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n');
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, config);
    const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    // If the test process dies without stop(), do not leave a registry behind.
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    child.once('exit', () => process.off('exit', onExit));
    const url = `http://127.0.0.1:${port}`;
    const ready = await waitReady(child, url, deadline);
    if (ready === true) {
      return {
        host: `127.0.0.1:${port}`,
        url,
        port,
        log: () => output,
        stop: async () => {
          await kill(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = new Error(`registry did not start (${ready}):\n${output.slice(-2000)}`);
    await kill(child);
    if (Date.now() > deadline) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitReady(child: ChildProcess, url: string, deadline: number): Promise<true | string> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return `exited with ${child.exitCode}`;
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return 'timed out';
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
