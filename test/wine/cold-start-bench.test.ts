import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './harness.js';

// The cold-start benchmark (bench/cold-start.mjs) runs and reports every
// field, under Linux node and node.exe in Wine. No timing is asserted: a
// benchmark's figures belong in docs/performance.md, not in a test.
describe('bench/cold-start.mjs', () => {
  it('measures --help, --version and ls against node -e 0 and writes the JSON report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcs-cold-test-'));
    try {
      const out = join(dir, 'cold-start.json');
      execFileSync(process.execPath, [join(repo, 'bench', 'cold-start.mjs'), '--runs', '2', '--out', out], {
        cwd: repo,
        stdio: 'ignore',
        env: process.env,
      });
      const report = JSON.parse(readFileSync(out, 'utf8'));
      expect(report.target).toBe(1.5);
      expect(report.results.map((r: { runtime: string }) => r.runtime)).toEqual([
        expect.stringMatching(/^linux node v/),
        'node.exe under Wine',
      ]);
      for (const result of report.results) {
        expect(result.runs).toBe(2);
        expect(result.baseline).toEqual({ command: 'node -e 0', medianMs: expect.any(Number) });
        expect(result.cases.map((c: { command: string }) => c.command)).toEqual([
          '--help',
          '--version',
          'ls',
        ]);
        for (const c of result.cases) {
          expect(c).toMatchObject({
            medianMs: expect.any(Number),
            ratio: expect.any(Number),
            met: expect.any(Boolean),
          });
          // --help and --version succeed; ls against an empty store succeeds under Wine (the simulated host).
          if (c.command !== 'ls' || result.runtime === 'node.exe under Wine') expect(c.exitCode).toBe(0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
