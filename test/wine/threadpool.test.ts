import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newInstance, runOk, winePath } from './harness.js';

// Issue 12 item 14: koffi's `.async` calls run on libuv's pool
// (napi_create_async_work, koffi src/koffi/src/call.cc), so long layer imports
// (a Delay fault on HcsImportLayer holds a pool thread as a real multi-minute
// import does) could starve a command in the same process: closing its
// operation and process handles are `.async` calls too. At most two long calls
// are in flight at once (src/internal/long-calls.ts), so half the default pool
// stays free. On the old code the first case fails: the command waits ~4 s.

interface PoolRun {
  poolSize: string | null;
  stdout: string;
  execMs: number;
  execDoneAtMs: number;
  importMs: number;
}

const IMPORTS = 4; // as many as libuv's default pool has threads
const DELAY_MS = 4000;
let work: string;
let storageRoot: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'hcs-pool-work-'));
  storageRoot = mkdtempSync(join(tmpdir(), 'hcs-pool-root-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(storageRoot, { recursive: true, force: true });
});

/** No NODE_OPTIONS preload: an ES module loaded before the main one would start the pool. */
function run(script: string, env: Record<string, string>): Promise<PoolRun> {
  return runOk<PoolRun>(script, [winePath(work), String(IMPORTS), String(DELAY_MS)], {
    instance: newInstance('pool'),
    env: { HCSSIM_STORAGE_ROOT: winePath(storageRoot), NODE_OPTIONS: '', ...env },
    timeoutMs: 120_000,
  });
}

describe('the libuv pool during long layer imports', () => {
  it("with libuv's default 4 threads, a command finishes long before 4 concurrent imports (at most 2 in flight)", async () => {
    const r = await run('threadpool.mjs', {});
    expect(r.poolSize).toBeNull();
    expect(r.stdout).toBe('during-import');
    // Two imports wait for the first two: the last ends after two delays.
    expect(r.importMs).toBeGreaterThanOrEqual(2 * DELAY_MS);
    expect(r.execDoneAtMs).toBeLessThan(DELAY_MS / 2);
  });

  it('with UV_THREADPOOL_SIZE=16 in the environment node.exe starts with, the same', async () => {
    const r = await run('threadpool.mjs', { UV_THREADPOOL_SIZE: '16' });
    expect(r.stdout).toBe('during-import');
    expect(r.importMs).toBeGreaterThanOrEqual(DELAY_MS);
    expect(r.execDoneAtMs).toBeLessThan(DELAY_MS / 2);
  });
});
