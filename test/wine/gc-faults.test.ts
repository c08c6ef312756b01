// Issue 13: gc beside another store (item 4), and the state-store fault test: create and rm
// killed at random moments in child processes, then gc; nothing left behind, no record corrupt.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoLeaks, type SimAudit } from './audit.js';
import { newInstance, runInWine, runOk, winePath } from './harness.js';

const homes: string[] = [];
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hcs-gcf-'));
  homes.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A small seeded generator (mulberry32): the kill moments are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('gc beside another hcs-sandbox store (issue 13 item 4)', () => {
  it("leaves the other store's running compute system alone and reports it", async () => {
    const [a, b] = [home(), home()];
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('gc-two-stores.mjs', [winePath(a), winePath(b)], {
      instance: newInstance('stores'),
      env: { HCSSIM_STORAGE_ROOT: winePath(join(a, 'sim-storage')) },
    });
    expect(r.gc).toEqual([['compute-system', r.ids[1], false, true]]);
    expect(r.states).toEqual(['Running', 'Running']);
    expect(r.gcOther).toBe(1); // and the other store's gc leaves the first store's system alone in turn
    expect(r.left).toBe(0);
  });
});

// Each iteration starts node.exe twice (the child, then the check): 10-16 s on a busy 2-core machine.
// HCS_GC_FAULT_ITERATIONS=12 for a longer run.
const ITERATIONS = Number(process.env.HCS_GC_FAULT_ITERATIONS ?? 6);
const SEED = Number(process.env.HCS_GC_FAULT_SEED ?? 13);

describe('state-store fault test (issue 13)', () => {
  it(`${ITERATIONS} create/rm runs killed at random moments (seed ${SEED}), each followed by gc: nothing left, nothing corrupt`, async () => {
    const dir = home();
    const options = {
      instance: newInstance('gcfault'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    };
    const { reference } = await runOk<{ reference: string }>('seed-image.mjs', [], options);
    const random = seeded(SEED);
    for (let i = 0; i < ITERATIONS; i++) {
      // The child kills itself (TerminateProcess) this long after the product is loaded and its loop begins.
      const killAfterMs = 200 + Math.floor(random() * 1500);
      const child = await runInWine('gc-fault-child.mjs', [`k${i}`, reference, String(killAfterMs)], options);
      const where = `iteration ${i} (killed ${killAfterMs} ms in, exit ${child.exitCode})\n${child.stderr}`;
      // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
      const r = await runOk<Record<string, any>>('gc-fault-check.mjs', [], options);
      expect(r.corrupt, where).toBeUndefined();
      expect(
        // Whatever gc found, it removed, without an error.
        r.gc.filter(([, removed, error]: unknown[]) => removed !== true || error !== null),
        where,
      ).toEqual([]);
      expect(r.strayedSystems, where).toEqual([]);
      expect(r.strayedScratch, where).toEqual([]);
      expect(r.tempFiles, where).toEqual([]);
      for (const record of r.records)
        expect(record, where).toMatchObject({ persistent: true, status: 'created' });
      expect(r.after, where).toEqual({ records: 0, scratch: [], systems: [] });
      expectNoLeaks(r.audit as SimAudit);
    }
  }, 240_000);
});
