import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newInstance, runCli, runOk, winePath } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'hcs-maint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const options = {
  instance: newInstance('maint'),
  env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
};

describe('hcs-sandbox doctor and gc (CLI under Wine)', () => {
  it('doctor reports every check with what to fix, and passes once an image exists', async () => {
    const before = await runCli(['doctor', '--json'], options);
    const checks = JSON.parse(before.stdout) as {
      check: string;
      ok: boolean;
      fix?: string;
      optional?: boolean;
    }[];
    expect(checks.map((c) => c.check)).toEqual(
      expect.arrayContaining([
        'Windows build',
        'Host Compute Service',
        'Privileges',
        'computestorage.dll',
        'Images',
        'State folder',
      ]),
    );
    const images = checks.find((c) => c.check === 'Images');
    expect(images).toMatchObject({ ok: false, fix: expect.stringContaining('image pull') });
    expect(before.exitCode).toBe(1);

    await runOk('seed-image.mjs', ['local/base:1'], options);
    const after = await runCli(['doctor'], options);
    expect(after.stdout).toMatch(/^ok {4}Images: 1 image\(s\): docker\.io\/local\/base:1$/m);
    expect(after.exitCode).toBe(0);
  });

  it('gc after a crashed creator: --dry-run lists, gc removes, then nothing is left', async () => {
    await runOk('sandbox-crash.mjs', ['crashed'], options);
    const dry = await runCli(['gc', '--dry-run'], options);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/^WOULD REMOVE\s+WHAT\s+WHY/m);
    expect(dry.stdout).toMatch(/state-record crashed/);
    const gc = await runCli(['gc', '--json'], options);
    const actions = JSON.parse(gc.stdout) as { kind: string; removed: boolean }[];
    expect(actions.map((a) => [a.kind, a.removed]).sort()).toEqual([
      ['network-endpoint', true],
      ['network-namespace', true],
      ['state-record', true],
      ['writable-layer', true],
    ]);
    expect((await runCli(['gc'], options)).stdout).toBe('nothing to remove\n');
  });
});
