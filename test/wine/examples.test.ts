import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newInstance, repo, runInWine, runOk, winePath } from './harness.js';

// The examples in README.md and examples/ must do what they say. They import
// `hcs-sandbox` and its subpaths (`hcs-sandbox/hcs`, ...), which resolve to dist/
// through package.json "exports" (a package can import itself by name).

const homes: string[] = [];
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('examples', () => {
  it("README.md's SDK example is examples/sandbox.mjs (from its import on)", () => {
    const example = readFileSync(join(repo, 'examples', 'sandbox.mjs'), 'utf8');
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const code = example.slice(example.indexOf('import '));
    expect(readme).toContain(['\n```js\n', code, '```\n'].join(''));
  });

  it('examples/hello-container.mjs prints the command output and the exit code', async () => {
    const run = await runInWine(join(repo, 'examples', 'hello-container.mjs'), [], {
      instance: newInstance('example'),
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout.replace(/\r\n/g, '\n')).toBe('hello from a container\nexit code 0\n');
  });

  it('examples/sandbox.mjs runs a command, reads back a file and removes the sandbox', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hcs-example-'));
    homes.push(home);
    const options = {
      instance: newInstance('example'),
      env: {
        HCS_SANDBOX_HOME: winePath(home),
        HCSSIM_STORAGE_ROOT: winePath(join(home, 'sim-storage')),
        SANDBOX_IMAGE: 'local/base:1',
      },
    };
    await runOk('seed-image.mjs', ['local/base:1'], options);
    const run = await runInWine(join(repo, 'examples', 'sandbox.mjs'), [], options);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout.replace(/\r\n/g, '\n')).toBe(
      'hello from a sandbox (exit code 0)\nwritten from the host\n',
    );
    const left = await runOk<{ sandboxes: number }>('example-leftovers.mjs', [], options);
    expect(left.sandboxes).toBe(0);
  });
});
