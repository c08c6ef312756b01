import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newInstance, runOk, winePath } from './harness.js';

// Issue 12 item 14: koffi's `.async` calls run on libuv's pool
// (napi_create_async_work, koffi src/koffi/src/call.cc), so long layer imports
// (a Delay fault on HcsImportLayer holds a pool thread as a real multi-minute
// import does) can starve a command in the same process: closing its
// operation and process handles are `.async` calls too.

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
  it("with libuv's default 4 threads, a command waits for the imports", async () => {
    const r = await run('threadpool.mjs', {});
    expect(r.poolSize).toBeNull();
    expect(r.stdout).toBe('during-import');
    expect(r.execDoneAtMs).toBeGreaterThanOrEqual(DELAY_MS - 500);
  });

  it('with UV_THREADPOOL_SIZE=16 in the environment node.exe starts with, it finishes long before them', async () => {
    const r = await run('threadpool.mjs', { UV_THREADPOOL_SIZE: '16' });
    expect(r.stdout).toBe('during-import');
    expect(r.importMs).toBeGreaterThanOrEqual(DELAY_MS);
    expect(r.execDoneAtMs).toBeLessThan(DELAY_MS / 2);
  });

  // Measured (Windows Node 20.20.2 under Wine 8): setting it from a CommonJS
  // main module, before any ES module loads, is already too late, so a CLI
  // entry module cannot size the pool in-process (it works on Linux Node).
  // Item 14 stays open: re-exec with the variable set, or a worker making
  // the long calls synchronously. When this starts passing, drop `fails`.
  it.fails('sized from inside the process (a CommonJS entry), it would finish long before them', async () => {
    const r = await run('threadpool-cli.cjs', {});
    expect(r.poolSize).toBe('16');
    expect(r.execDoneAtMs).toBeLessThan(DELAY_MS / 2);
  });
});
