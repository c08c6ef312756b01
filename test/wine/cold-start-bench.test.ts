import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadedFiles, writeLoadReporter } from '../support/loaded-modules.js';
import { newInstance, repo, runCli, winePath } from './harness.js';

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

// What `ls` reads under node.exe, where process.platform is win32: the store
// root's access-list check import()s the file-security bindings, which once
// sent it through the 700 kB SDK chunk on Windows only, and koffi is loaded
// from its binary package, without its entry point (src/native/shared/koffi-module.ts).
describe('hcs-sandbox ls under node.exe', () => {
  it("reads main.js and sdk-list.js, and koffi's binary without its entry point", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcs-cold-files-'));
    try {
      const hook = writeLoadReporter(dir);
      const run = await runCli(['ls'], {
        instance: newInstance('cold'),
        env: {
          HCS_SANDBOX_HOME: winePath(join(dir, 'home')),
          NODE_OPTIONS: [
            `--import=file:///Z:${join(import.meta.dirname, 'wine-shims.mjs')}`,
            `--import=file:///Z:${hook}`,
          ].join(' '),
        },
      });
      expect(run.exitCode, run.stderr).toBe(0);
      const loaded = loadedFiles(run.stderr);
      const own = loaded
        .filter((f) => f.includes(`${repo}/dist/`))
        .map((f) => f.slice(f.lastIndexOf('/dist/') + 1))
        .sort();
      expect(own).toEqual(['dist/cli/main.js', 'dist/cli/sdk-list.js']);
      expect(loaded.some((f) => f.endsWith('/@koromix/koffi-win32-x64/win32_x64/koffi.node'))).toBe(true);
      expect(loaded.filter((f) => f.includes('/node_modules/koffi/'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
