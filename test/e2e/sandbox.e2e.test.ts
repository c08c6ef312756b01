import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runDoctor, Sandbox } from '../../src/index.js';
import {
  destroyLayer,
  importLayer,
  OwnImageSource,
  pullImage,
  setupBaseLayer,
} from '../../src/storage/index.js';

// Real-Windows tier, the product end to end: pull Nano Server for this host's
// build without Docker, run a process-isolated sandbox, move a file, remove it.
// Needs HCS_SANDBOX_E2E=1, an elevated shell and the Containers feature.
const enabled = process.env.HCS_SANDBOX_E2E === '1';
const build = Number(release().split('.')[2]);
const tag = build >= 26100 ? 'ltsc2025' : build >= 20348 ? 'ltsc2022' : 'ltsc2019';
const image = `mcr.microsoft.com/windows/nanoserver:${tag}`;

describe.runIf(enabled)('sandboxes on real Windows', () => {
  it('doctor finds HCS, the storage libraries and privileges', async () => {
    const checks = await runDoctor();
    for (const name of [
      'Windows build',
      'Host Compute Service',
      'Privileges',
      'computestorage.dll',
      'virtdisk.dll',
    ]) {
      expect(
        checks.find((c) => c.check === name),
        name,
      ).toMatchObject({ ok: true });
    }
  });

  it(`pulls ${image} without Docker`, async () => {
    const result = await pullImage(image, {
      store: new OwnImageSource(),
      importLayer,
      setupBaseLayer,
      destroyLayer,
      hostBuild: build,
      // Windows 11 runs Server 2022 images with process isolation: accept the older build there.
      allowOlderBuild: true,
    });
    expect(result.image.build).toBe(build >= 22000 && build < 26100 ? 20348 : build);
  }, 900_000);

  it('runs a command in a process-isolated sandbox, moves a file, and removes it', async () => {
    const sb = await Sandbox.create({ image, network: 'none' });
    try {
      const r = await sb.commands.run('cmd /c echo hello');
      expect(r).toMatchObject({ exitCode: 0, stdout: 'hello\r\n' });
      await sb.files.write('C:\\e2e\\a.txt', 'written from the host');
      expect((await sb.commands.run('cmd /c type C:\\e2e\\a.txt')).stdout).toBe('written from the host');
    } finally {
      await sb.remove();
    }
    expect((await Sandbox.list()).find((s) => s.name === sb.name)).toBeUndefined();
  }, 600_000);
});
