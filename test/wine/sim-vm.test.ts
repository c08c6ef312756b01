import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newInstance, repo } from './harness.js';

// The simulated host's disk-booted VM rules (test-host/sim/vm_disk_rules.c) and virtdisk's
// chain/size information, checked by their own C program through the DLL exports.
describe('simulated host: disk-booted VMs', () => {
  it('vmtest.exe passes (boot pitfalls, worker crash, guest shutdown/reboot, state files, disk chain)', () => {
    const build = process.env.HCS_TEST_HOST_BUILD ?? join(repo, '.cache', 'test-host', 'build');
    const out = execFileSync(
      'bash',
      ['-c', `cd "${build}" && wine ./vmtest.exe > vmtest.exe.out 2>&1; echo "exit=$?"; cat vmtest.exe.out`],
      { env: { ...process.env, HCSSIM_INSTANCE: newInstance('vmtest') }, encoding: 'utf8', timeout: 180_000 },
    );
    expect(out).toMatch(/exit=0/);
    expect(out).toMatch(/\b\d+ passed, 0 failed/);
  });
});
