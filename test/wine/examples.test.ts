import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newInstance, repo, runInWine } from './harness.js';

// The examples in README.md and examples/ must do what they say.
describe('examples', () => {
  it('examples/hello-container.mjs prints the command output and the exit code', async () => {
    const run = await runInWine(join(repo, 'examples', 'hello-container.mjs'), [], {
      instance: newInstance('example'),
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout.replace(/\r\n/g, '\n')).toBe('hello from a container\nexit code 0\n');
  });
});
