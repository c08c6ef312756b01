import { release } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listNetworks } from '../../../src/network/index.js';
import { runDoctor } from '../../../src/sandbox/index.js';
import { findHostBaseImage, listImages } from '../../../src/storage/index.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

// What doctor asks of the host beyond HCS and storage (both faked by the harness).
vi.mock('node:os', async (original) => ({
  ...(await original<typeof import('node:os')>()),
  release: vi.fn(() => '6.8.0-linux'),
}));
vi.mock('../../../src/network/index.js', async (original) => ({
  ...(await original<typeof import('../../../src/network/index.js')>()),
  listNetworks: vi.fn(),
}));
vi.mock('../../../src/storage/index.js', async (original) => ({
  ...(await original<typeof import('../../../src/storage/index.js')>()),
  listImages: vi.fn(),
  findHostBaseImage: vi.fn(),
}));

const host = useFakeSandboxHost();
const platform = Object.getOwnPropertyDescriptor(process, 'platform');

/** Doctor branches on `process.platform`: pretend to be Windows (build `build`) for one test. */
function onWindows(build = 20348): void {
  Object.defineProperty(process, 'platform', { ...platform, value: 'win32' });
  vi.mocked(release).mockReturnValue(`10.0.${build}`);
}

afterEach(() => {
  if (platform) Object.defineProperty(process, 'platform', platform);
  vi.mocked(release).mockReturnValue('6.8.0-linux');
});

function healthyHost(): void {
  vi.mocked(listNetworks).mockResolvedValue([]);
  vi.mocked(listImages).mockResolvedValue([
    { reference: 'local/base:1', id: 'sha256:1', source: 'hcs-sandbox', os: 'windows', layers: [] },
  ]);
  vi.mocked(findHostBaseImage).mockResolvedValue({
    state: 'ready',
    reason: 'mounted',
    baseImagesDir: 'C:\\ProgramData\\Microsoft\\Windows\\Containers\\BaseImages',
    candidates: 1,
  } as Awaited<ReturnType<typeof findHostBaseImage>>);
}

describe('runDoctor', () => {
  it('on a host that is not Windows, reports that and checks nothing else', async () => {
    expect(process.platform).not.toBe('win32');
    const checks = await runDoctor({ home: host.home });
    expect(checks).toEqual([
      {
        check: 'Windows',
        ok: false,
        detail: `this is ${process.platform}`,
        fix: 'run hcs-sandbox on Windows 10 1903 / Server 2022 or newer',
      },
    ]);
    expect(host.hcs.fake.nativeCalls()).toEqual([]);
  });

  it('on a healthy Windows host, every check passes', async () => {
    onWindows();
    healthyHost();
    const checks = await runDoctor({ home: host.home });
    expect(checks.map((c) => [c.check, c.ok])).toEqual([
      ['Windows build', true],
      ['Host Compute Service', true],
      ['Privileges', true],
      ['Elevation', true],
      ['SeManageVolumePrivilege', true],
      ['Backup and restore privileges', true],
      ['computestorage.dll', true],
      ['virtdisk.dll', true],
      ['Host Network Service', true],
      ['Images', true],
      ['Windows Sandbox base image', true],
      ['State folder', true],
    ]);
    expect(checks[1]?.detail).toContain('schema versions 2.1, 2.5');
    expect(checks.find((c) => c.check === 'Images')?.detail).toBe('1 image(s): local/base:1');
  });

  it('does not claim build 17763 (Server 2019): its HcsFormatWritableLayerVhd takes another handle', async () => {
    onWindows(17763);
    healthyHost();
    const build = (await runDoctor({ home: host.home })).find((c) => c.check === 'Windows build');
    expect(build).toMatchObject({ ok: false, detail: 'build 17763 (Server 2019 / 1809) is not supported' });
  });

  it('checks the token: elevated with Administrators enabled, SeManageVolume, backup and restore', async () => {
    onWindows();
    healthyHost();
    host.storage.token.elevated = false;
    host.storage.token.administrators = false;
    host.storage.token.held.delete('SeManageVolumePrivilege');
    host.storage.token.held.delete('SeBackupPrivilege');
    const checks = await runDoctor({ home: host.home });
    const byName = Object.fromEntries(checks.map((c) => [c.check, c]));
    expect(byName.Elevation).toMatchObject({
      ok: false,
      detail: 'not elevated, BUILTIN\\Administrators not enabled',
      fix: 'run hcs-sandbox from an elevated shell (Run as administrator)',
    });
    expect(byName.SeManageVolumePrivilege?.ok).toBe(false);
    expect(byName['Backup and restore privileges']).toMatchObject({
      ok: false,
      detail: 'not held: SeBackupPrivilege',
    });
    // Doctor reads the token; it enables nothing.
    expect(host.storage.securityCalls.map((c) => c.fn)).not.toContain('AdjustTokenPrivileges');
  });

  it('names what is wrong and how to fix it', async () => {
    onWindows(17134);
    healthyHost();
    vi.mocked(listNetworks).mockRejectedValue(new Error('hns is stopped'));
    vi.mocked(listImages).mockResolvedValue([]);
    host.hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'reject', hresult: 0x80070005 | 0 });
    const checks = await runDoctor({ home: host.home });
    const failed = Object.fromEntries(checks.filter((c) => !c.ok).map((c) => [c.check, c.fix]));
    expect(failed).toEqual({
      'Windows build': 'update to build 18362 (Windows 10 1903) or newer; on servers, Server 2022 (20348)',
      Privileges: 'run from an elevated shell, or join the Hyper-V Administrators group',
      'Host Network Service': 'Start-Service hns (elevated); sandboxes with network "none" still work',
      Images: 'hcs-sandbox image pull mcr.microsoft.com/windows/nanoserver:ltsc2022',
    });
  });
});
