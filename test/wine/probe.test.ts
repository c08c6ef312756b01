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
  env: { HCS_SANDBOX_HOME: winePath(join(dir, 'home')), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim')) },
};

/** Items whose failure on the simulated host is a finding the test expects (none now). */
const SIM_FINDINGS: Record<string, RegExp> = {};

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

describe('doctor --probe under Wine (simulated host)', () => {
  it('writes one report: sim-supported items pass, the rest are skipped with reasons, nothing is left', async () => {
    await runOk('seed-image.mjs', ['local/base:1'], options);
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
      } else if (!SIM_PASSES.includes(item.id)) {
        expect([item.id, item.outcome]).toEqual([item.id, 'skipped']);
        expect(item.reason.length, item.id).toBeGreaterThan(10);
      }
      expect(item.cleanupErrors, item.id).toBeUndefined();
    }
    // No vmcompute.dll under Wine: NameToGuid is skipped as unavailable, not failed.
    expect(report.items.find((i) => i.id === 'layers.name-to-guid')?.reason).toMatch(/vmcompute\.dll/);
    const failing = Object.keys(SIM_FINDINGS).length;
    expect(report.summary).toEqual({
      pass: SIM_PASSES.length,
      fail: failing,
      skipped: report.items.length - SIM_PASSES.length - failing,
    });
    expect(run.exitCode).toBe(failing ? 1 : 0);

    const leftovers = await runOk('probe-leftovers.mjs', [], options);
    expect(leftovers).toEqual({ systems: [], networks: [], sandboxes: [] });
  });
});
