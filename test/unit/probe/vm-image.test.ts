import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProbeHost, runProbe } from '../../../src/probe/index.js';
import { RowVerdicts } from '../../../src/probe/items/verdicts.js';
import { probeImageSizeGB, vmImageBuildItem, vmImageIsoItem } from '../../../src/probe/items/vm-image.js';
import type { MountedIso } from '../../../src/storage/index.js';
import { FakeBuildHost } from '../storage/vm-images/fake-build-host.js';
import { WINDOWS_11, wimFile } from '../storage/vm-images/wim-fixture.js';
import { verdictStatuses, WINDOWS_HOST } from './probe-host.js';

// vm.image-build and vm.image-iso against the fake build host: skips, the
// product's build watched step by step, and the rows each outcome settles.

const GIB = 2 ** 30;

let dir: string;
let wim: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probe-vm-image-'));
  wim = join(dir, 'install.wim');
  await writeFile(wim, wimFile(WINDOWS_11));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function runItem(item: ReturnType<typeof vmImageBuildItem>, host: Partial<ProbeHost> = {}) {
  return (await runProbe({ host: { ...WINDOWS_HOST, ...host }, items: [item] })).items[0]!;
}

/** A fake build host whose ISO is a real folder that dismounting removes. */
class IsoHost extends FakeBuildHost {
  override async mountIso(path: string): Promise<MountedIso> {
    this.log.push(`mount-iso ${path}`);
    const root = this.isoRoot!;
    return { root, dismount: () => rm(root, { recursive: true, force: true }) };
  }
}

describe('vm.image-build', () => {
  it.each([
    [{}, {}, /HCS_PROBE_WIM is not set/],
    [{ HCS_PROBE_WIM: 'x.wim' }, { elevated: false }, /needs an elevated shell/],
    [{ HCS_PROBE_WIM: '/nowhere/x.wim' }, {}, /HCS_PROBE_WIM=\/nowhere\/x\.wim does not exist/],
    [{ HCS_PROBE_WIM: 'WIM', HCS_PROBE_WIM_INDEX: '9' }, {}, /HCS_PROBE_WIM_INDEX=9: .* has images 1-/],
  ])('is skipped, saying why: %j %j', async (env, host, why) => {
    const fake = new FakeBuildHost();
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === 'WIM' ? wim : v]));
    const item = await runItem(vmImageBuildItem({ env: () => resolved, host: async () => fake }), host);
    expect(item).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(why) });
    expect(fake.log).toEqual([]);
  });

  it("builds probe-<pid> with the product's build, times every step, watches the guard, removes it", async () => {
    const fake = new FakeBuildHost();
    const item = await runItem(
      vmImageBuildItem({
        env: () => ({ HCS_PROBE_WIM: wim, HCS_PROBE_WIM_INDEX: '1' }),
        host: async () => fake,
      }),
    );
    expect(verdictStatuses(item.verdicts)).toEqual({
      VB1: 'confirmed',
      VB2: 'confirmed',
      VB3: 'confirmed',
      VB4: 'confirmed',
      VB5: 'confirmed',
      VB9: 'confirmed',
      VS9: 'confirmed',
    });
    expect(item.outcome, item.reason).toBe('pass');
    expect(item.reason).toBe('confirmed VB1 VB2 VB3 VB4 VB5 VB9 VS9');
    const details = item.details as {
      sizeGB: number;
      vhdxPath: string;
      images: { index: number }[];
      guard: unknown;
      steps: { step: string; outcome: string }[];
      commands: { program: string }[];
      base: unknown;
      removed: boolean;
    };
    expect(details.sizeGB).toBe(16);
    expect(details.vhdxPath).toMatch(new RegExp(`vm images.*probe-${process.pid}`));
    expect(details.images.map((i) => i.index)).toEqual([1, 2]);
    expect(details.guard).toEqual({
      physicalPaths: ['\\\\.\\PhysicalDrive3'],
      diskSizes: [
        { disk: 3, bytes: 16 * GIB },
        { disk: 3, bytes: 16 * GIB },
        { disk: 3, bytes: 16 * GIB },
      ],
    });
    expect(details.steps.map((s) => s.step)).toContain('apply-image');
    expect(details.steps.every((s) => s.outcome === 'done')).toBe(true);
    expect(details.commands.map((c) => c.program.toLowerCase())).toContain('dism.exe');
    expect(details.base).toEqual({ capacityBytes: 16 * GIB, fileBytes: 16 * GIB + 4 * 2 ** 20 });
    expect(details.removed).toBe(true);
    expect(item.verdicts?.VB2?.observed).toMatch(/PhysicalDrive3.*disk 3: 17179869184 bytes/);
  });

  it('a disk whose size Windows reports differently: the guard refuses, VB2 is refuted with both sizes', async () => {
    const fake = new (class extends FakeBuildHost {
      override async diskSize(n: number) {
        return (await super.diskSize(n)) + 512;
      }
    })();
    const item = await runItem(
      vmImageBuildItem({
        env: () => ({ HCS_PROBE_WIM: wim, HCS_PROBE_WIM_INDEX: '1' }),
        host: async () => fake,
      }),
    );
    expect(item.outcome).toBe('fail');
    expect(item.verdicts?.VB2).toEqual({
      status: 'refuted',
      observed: expect.stringMatching(
        /disk 3: 17179869696 bytes; the VHDX's capacity 17179869184: .*has 17179869696 bytes/,
      ),
    });
    expect(item.verdicts?.VB5?.status).toBe('not reached');
    expect(item.cleanupErrors).toBeUndefined();
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('bcdboot that writes no BCD store: VB4 refuted, the rows before it confirmed', async () => {
    const fake = new FakeBuildHost();
    fake.bcdbootWrites = false;
    const item = await runItem(
      vmImageBuildItem({
        env: () => ({ HCS_PROBE_WIM: wim, HCS_PROBE_WIM_INDEX: '1' }),
        host: async () => fake,
      }),
    );
    expect(verdictStatuses(item.verdicts)).toMatchObject({
      VB1: 'confirmed',
      VB4: 'refuted',
      VB9: 'not reached',
    });
    expect(item.verdicts?.VB4?.observed).toMatch(/assert-bcd failed/);
    expect((item.details as { removed: boolean }).removed).toBe(true);
  });

  it('sizes the disk to hold the image: 16 GiB at least, a quarter to spare above', () => {
    expect(probeImageSizeGB({})).toBe(16);
    expect(probeImageSizeGB({ sizeBytes: 5 * GIB })).toBe(16);
    expect(probeImageSizeGB({ sizeBytes: 20 * GIB })).toBe(26);
  });
});

describe('vm.image-iso', () => {
  it('mounts, lists the install.esd, dismounts: VB6 and VB10 confirmed', async () => {
    const fake = new IsoHost();
    fake.isoRoot = join(dir, 'iso');
    await mkdir(join(fake.isoRoot, 'sources'), { recursive: true });
    await writeFile(join(fake.isoRoot, 'sources', 'install.esd'), wimFile(WINDOWS_11));
    const iso = join(dir, 'win.iso');
    await writeFile(iso, 'iso');
    const item = await runItem(
      vmImageIsoItem({ env: () => ({ HCS_PROBE_ISO: iso }), host: async () => fake }),
    );
    expect(verdictStatuses(item.verdicts)).toEqual({ VB6: 'confirmed', VB10: 'confirmed' });
    expect((item.details as { images: unknown[] }).images).toHaveLength(2);
    expect(item.outcome).toBe('pass');
  });

  it('is skipped without HCS_PROBE_ISO', async () => {
    const item = await runItem(vmImageIsoItem({ env: () => ({}), host: async () => new IsoHost() }));
    expect(item).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/HCS_PROBE_ISO is not set/),
    });
  });
});

describe('RowVerdicts', () => {
  it('starts not reached, says which rows went which way, and fails on a refuted row or an error', () => {
    const v = new RowVerdicts(['A', 'B', 'C']);
    expect(v.summary()).toBe('not reached A B C');
    v.confirm('A', 'yes');
    expect(v.result({})).toMatchObject({ outcome: 'pass', reason: 'confirmed A; not reached B C' });
    v.refute('B', 'no: 7');
    expect(v.result({})).toMatchObject({ outcome: 'fail', reason: 'confirmed A; refuted B; not reached C' });
    expect(v.result({}, new Error('boom'))).toMatchObject({
      outcome: 'fail',
      reason: 'boom (confirmed A; refuted B; not reached C)',
      verdicts: {
        C: { status: 'not reached', observed: 'the item stopped on an error before this row: boom' },
      },
    });
    expect(() => v.confirm('Z', 'x')).toThrow(/row Z/);
  });
});
