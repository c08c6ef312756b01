import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProbeReport } from '../../src/probe/index.js';
import { newInstance, runCli, runOk, winePath } from './harness.js';

// The probe against the simulated host, end to end through the CLI: this is
// how CI knows the probe itself works before anyone runs it on real Windows.
const dir = mkdtempSync(join(tmpdir(), 'hcs-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const options = {
  instance: newInstance('probe'),
  timeoutMs: 600_000,
  env: {
    HCS_SANDBOX_HOME: winePath(join(dir, 'home')),
    HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim')),
    // vm.boot boots the seeded VM image. The simulated pipe accepts and holds without
    // HCSSIM_VIDEO_TCP, so its wait for an answer is cut short (the row is then not reached).
    HCS_PROBE_VM_IMAGE: 'win',
    HCS_PROBE_VM_SCREEN_SECONDS: '2',
    HCS_PROBE_VM_BOOT_SECONDS: '0',
  },
};

/** Items whose failure on the simulated host is a finding the test expects (none now). */
const SIM_FINDINGS: Record<string, RegExp> = {};
/** vm.boot passes on the simulated host: every row it can reach there is confirmed (SIM_VM_BOOT_SERVED). */
const VM_BOOT = 'vm.boot';

/** Items the simulated host can answer; every other item must be skipped with a reason, never fail. */
const SIM_PASSES = [
  'hcs.service',
  'hcs.errors',
  'hcs.result-strings-freed',
  'hcs.cancel',
  'hcs.callbacks',
  'layers.storage-sequence',
  'layers.import-round-trip',
  'layers.base-layer-files',
  'layers.base-layer-setup',
  'hcn.objects',
  'sandbox.run',
  'sandbox.stdio-pipe-kind',
];

/**
 * What vm.boot must say on the simulated host, row by row. The simulated worker serves the
 * screen only on the pipe the VM's document names (test-host/sim/video_pipe.c, rule 2), and
 * holds a client without answering unless HCSSIM_VIDEO_TCP points at an RDP server: so the
 * X.224 question is never answered here, and VV1/VV3 are not reached (in ~2 s, never a hang).
 */
const SIM_VM_BOOT_SERVED = {
  VD1: 'confirmed',
  VD2: 'confirmed',
  VD3: 'confirmed',
  VD4: 'confirmed',
  VD5: 'confirmed',
  VD7: 'confirmed',
  VS5: 'confirmed',
  VV1: 'not reached',
  VV3: 'not reached',
  VV4: 'confirmed',
  VV5: 'confirmed',
};
describe('doctor --probe under Wine (simulated host)', () => {
  it('writes one report: sim-supported items pass, the rest are skipped with reasons, nothing is left', async () => {
    await runOk('seed-image.mjs', ['local/base:1'], options);
    await runOk('vm-seed.mjs', ['win'], options);
    const output = join(dir, 'report.json');
    const run = await runCli(['doctor', '--probe', '--output', winePath(output)], options);
    const report = JSON.parse(readFileSync(output, 'utf8')) as ProbeReport;
    // HCS_PROBE_KEEP=<file> keeps the report (docs/probe.md's sample comes from here).
    if (process.env.HCS_PROBE_KEEP) copyFileSync(output, process.env.HCS_PROBE_KEEP);

    // The report says what the host is; under Wine it says so, from what it measured.
    expect(report.format).toBe('hcs-sandbox-probe/1');
    expect(report.host).toMatchObject({ platform: 'win32', hcsSandboxVersion: expect.any(String) });
    expect(report.host.wine).toMatch(/^\d/);
    expect(run.stdout).toMatch(/NOTE: running under Wine .*confirm nothing about real Windows/);
    expect(run.stdout).toContain(`report: ${winePath(output)}`);

    const outcomes = Object.fromEntries(report.items.map((i) => [i.id, i.outcome]));
    for (const id of SIM_PASSES) expect([id, outcomes[id]]).toEqual([id, 'pass']);
    for (const item of report.items) {
      expect(item.rows.length, item.id).toBeGreaterThan(0);
      expect(item.durationMs).toBeGreaterThanOrEqual(0);
      const finding = SIM_FINDINGS[item.id];
      if (finding) {
        expect([item.id, item.outcome]).toEqual([item.id, 'fail']);
        expect(item.reason).toMatch(finding);
      } else if (item.id === VM_BOOT) {
        expect(item.outcome).toBe('pass');
      } else if (!SIM_PASSES.includes(item.id)) {
        expect([item.id, item.outcome]).toEqual([item.id, 'skipped']);
        expect(item.reason.length, item.id).toBeGreaterThan(10);
      }
      expect(item.cleanupErrors, item.id).toBeUndefined();
    }
    const vmBoot = report.items.find((i) => i.id === 'vm.boot');
    const statuses = Object.fromEntries(
      Object.entries(vmBoot?.verdicts ?? {}).map(([row, v]) => [row, v.status]),
    );
    expect(statuses, JSON.stringify(vmBoot?.verdicts)).toEqual(SIM_VM_BOOT_SERVED);
    expect(vmBoot?.outcome).toBe('pass');
    expect(vmBoot?.verdicts?.VV1?.observed).toMatch(
      /connected after \d+ ms, no answer to the X\.224 request/,
    );
    expect(run.stdout).toMatch(/^ {8}VV1 not reached: /m);
    expect(vmBoot?.details).toMatchObject({ leftovers: [], stop: { exitType: 'GracefulExit' } });
    // The image items have no media here: skipped, saying which variable to set.
    expect(report.items.find((i) => i.id === 'vm.image-build')?.reason).toMatch(/HCS_PROBE_WIM is not set/);
    expect(report.items.find((i) => i.id === 'vm.image-iso')?.reason).toMatch(/HCS_PROBE_ISO is not set/);

    // No vmcompute.dll under Wine: NameToGuid is skipped as unavailable, not failed.
    expect(report.items.find((i) => i.id === 'layers.name-to-guid')?.reason).toMatch(/vmcompute\.dll/);
    const failing = Object.keys(SIM_FINDINGS).length + (vmBoot?.outcome === 'fail' ? 1 : 0);
    const passing = SIM_PASSES.length + (vmBoot?.outcome === 'pass' ? 1 : 0);
    expect(report.summary).toEqual({
      pass: passing,
      fail: failing,
      skipped: report.items.length - passing - failing,
    });
    expect(run.exitCode).toBe(failing ? 1 : 0);

    const leftovers = await runOk('probe-leftovers.mjs', [], options);
    expect(leftovers).toEqual({ systems: [], networks: [], sandboxes: [] });
  });
});
