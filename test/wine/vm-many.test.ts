import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newInstance, repo, runOk, winePath } from './harness.js';

// Issue 15's scale and stream tests through the VM driver (not the agent alone): 20 VM
// sandboxes at once on the simulated host, each running the real agent.exe, reached
// through the product's relay; a command in each at the same time; then 256 MB each way
// through one of them, checksummed. Timings are printed, not asserted (npm run bench times).

const build = process.env.HCS_TEST_HOST_BUILD ?? join(repo, '.cache', 'test-host', 'build');
const homes: string[] = [];
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Result {
  echoed: string[];
  big: { exitCode: number; receivedBytes: number; same: boolean };
  timings: { createdMs: number; execMs: number; streamMs: number };
}

describe('many VM sandboxes through their agents (simulated host)', () => {
  it('20 VMs at once, a command in each concurrently, and 256 MB each way through one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hcs-vm-many-'));
    homes.push(home);
    const options = {
      instance: newInstance('vmmany'),
      env: { HCS_SANDBOX_HOME: winePath(home), HCSSIM_STORAGE_ROOT: winePath(join(home, 'sim-storage')) },
      timeoutMs: 420_000,
    };
    await runOk('vm-seed.mjs', ['win'], options);
    const count = 20;
    const result = await runOk<Result>(
      'vm-many.mjs',
      [String(count), '256', winePath(join(build, 'agent-testkid.exe'))],
      options,
    );
    expect(result.echoed).toEqual(Array.from({ length: count }, (_, i) => `from-many${i}`));
    expect(result.big).toEqual({ exitCode: 0, receivedBytes: 256 * 1024 * 1024, same: true });
    console.log(`vm-many: ${JSON.stringify(result.timings)}`);
    // Every sandbox removed: no record, no scratch folder.
    expect(readdirSync(join(home, 'sandboxes')).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(readdirSync(join(home, 'scratch'))).toEqual([]);
  }, 480_000);
});
