import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the bench, without types
import { execReport } from '../../bench/exec-report.mjs';
import { newInstance, repo, runOk } from './harness.js';

// The exec throughput benchmark (`npm run bench`, issue 16) runs and reports its
// figures. A benchmark is not a test: only the shape is checked, never a time.
describe('the exec throughput benchmark', () => {
  it('runs with a tiny size and yields every figure of bench/results/exec-throughput.json', async () => {
    const measured = await runOk(join(repo, 'bench', 'wine', 'exec-throughput.mjs'), ['1', '1'], {
      instance: newInstance('bench'),
      timeoutMs: 120_000,
    });
    const { lines, document } = execReport(measured);
    const figure = {
      ms: expect.any(Number),
      medianMs: expect.any(Number),
      mbPerS: expect.any(Number),
      ratio: expect.any(Number),
      cpuMs: expect.any(Number),
    };
    const judged = { ...figure, target: expect.any(Number), met: expect.any(Boolean) };
    expect(document).toMatchObject({
      benchmark: 'exec-throughput',
      targets: { run: 0.9, stream: expect.any(Number) },
      sizes: [
        {
          mb: 1,
          bytes: 1024 * 1024,
          rounds: 1,
          baseline: figure,
          hcsPipe: figure,
          run: judged,
          runBuffer: judged,
          stream: judged,
        },
      ],
    });
    expect(lines.join('\n')).toMatch(/commands\.run .* MB\/s .*\((target >= 0\.90x: (met|NOT met))\)/);
  });
});
