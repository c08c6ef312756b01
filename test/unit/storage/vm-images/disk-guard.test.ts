import { describe, expect, it } from 'vitest';
import { assertOurDisk, DiskGuardError, type DiskProbe } from '../../../../src/storage/index.js';

const GB40 = 40 * 2 ** 30;

function probe(overrides: Partial<DiskProbe> = {}): DiskProbe {
  return {
    ourPhysicalPath: async () => '\\\\.\\PhysicalDrive3',
    diskSize: async (n) => (n === 3 ? GB40 : 512 * 2 ** 30),
    diskNumberOfPath: async (p) => (p === 'S:\\' ? 3 : p === 'C:\\' ? 0 : undefined),
    ...overrides,
  };
}

describe('assertOurDisk', () => {
  it('passes the disk this build attached, by number or by a volume on it', async () => {
    await expect(assertOurDisk('partition', { disk: 3 }, GB40, probe())).resolves.toBe(3);
    await expect(assertOurDisk('bcdboot', { path: 'S:\\' }, GB40, probe())).resolves.toBe(3);
  });

  it.each([
    [
      'another disk number (the host disk)',
      { disk: 0 },
      probe(),
      /disk 0 is disk 0, but this build's VHDX is disk 3/,
    ],
    ['a volume on another disk', { path: 'C:\\' }, probe(), /the volume at C:\\ is disk 0/],
    ['a volume on no disk', { path: 'Q:\\' }, probe(), /on no disk/],
    [
      'our number but another size (renumbered disks)',
      { disk: 3 },
      probe({ diskSize: async () => 512 * 2 ** 30 }),
      /disk 3 has 549755813888 bytes, the VHDX this build created has 42949672960/,
    ],
    [
      'a handle whose path is not a physical drive',
      { disk: 3 },
      probe({ ourPhysicalPath: async () => '\\\\.\\CdRom0' }),
      /CdRom0.*not .*PhysicalDriveN/,
    ],
  ])('refuses %s', async (_, target, p, message) => {
    const error = await assertOurDisk('partition', target, GB40, p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiskGuardError);
    expect((error as DiskGuardError).code).toBe('DISK_GUARD');
    expect((error as Error).message).toMatch(message);
  });
});
