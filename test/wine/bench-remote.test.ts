import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the bench, without types
import { remoteReport } from '../../bench/remote-report.mjs';
import { newInstance, repo, runOk, winePath } from './harness.js';

// The remote exec benchmark (`npm run bench`, issue 17) runs and reports its
// figures. A benchmark is not a test: only the shape is checked, never a time.
describe('the remote exec benchmark', () => {
  it('runs with a few iterations and yields every figure of bench/results/remote-exec.json', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hcs-bench-remote-'));
    try {
      const measured = await runOk(join(repo, 'bench', 'wine', 'remote-exec.mjs'), ['2'], {
        instance: newInstance('bench'),
        timeoutMs: 120_000,
        env: { HCS_SANDBOX_HOME: winePath(home), HCSSIM_STORAGE_ROOT: winePath(join(home, 'sim-storage')) },
      });
      const { lines, document } = remoteReport(measured);
      const figure = {
        mean: expect.any(Number),
        p50: expect.any(Number),
        p99: expect.any(Number),
        addedP50: expect.any(Number),
        ratioP50: expect.any(Number),
      };
      expect(document).toEqual({
        benchmark: 'remote-exec',
        iterations: 2,
        command: 'cmd /c echo x',
        local: figure,
        remoteRun: figure,
        remoteStream: figure,
      });
      expect(lines.join('\n')).toMatch(/POST \.\.\.\/commands +p50 .* added p50 .* ms/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
