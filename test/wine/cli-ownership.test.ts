import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newInstance, runCli, runOk, winePath } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'hcs-own-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const options = {
  instance: newInstance('own'),
  env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
  timeoutMs: 300_000,
};

describe('ownership and many CLI processes (CLI under Wine)', () => {
  it('refuses to stop a compute system hcs-sandbox did not create unless --force', async () => {
    await runOk('foreign-system.mjs', ['docker-c0ffee'], options);
    const refused = await runCli(['kill', 'docker-c0ffee'], options);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/belongs to "docker".*--force/);
    expect((await runCli(['systems', '--json'], options)).stdout).toContain('"docker-c0ffee"');
    const forced = await runCli(['kill', '--force', 'docker-c0ffee'], options);
    expect(forced.exitCode).toBe(0);
    expect((await runCli(['systems', '--json'], options)).stdout).not.toContain('"docker-c0ffee"');
  });

  it('5 CLI processes each run --rm a sandbox at once: every output right, nothing left', async () => {
    await runOk('seed-image.mjs', ['local/base:1'], options);
    const runs = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        runCli(
          ['run', '--rm', '-q', '--network', 'none', 'local/base:1', '--', 'cmd', '/c', 'echo', `cli-${i}`],
          options,
        ),
      ),
    );
    runs.forEach((r, i) => {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`cli-${i}`);
    });
    expect((await runCli(['ls', '--all', '--json'], options)).stdout.trim()).toBe('[]');
    expect(readdirSync(join(dir, 'scratch'))).toEqual([]);
  }, 300_000);
});
