import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultBaseImagesDir,
  findHostBaseImage,
  HOST_IMAGE_REFERENCE,
  HostBaseImageSource,
} from '../../../../src/storage/images/host-base-image.js';
import { defaultLayerId } from '../../../../src/storage/images/layer-id.js';
import { put, tempRoot } from './fixtures.js';
import { buildPe } from './pe-builder.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot('host'));
});
afterEach(() => cleanup());

const GUID = '{0B7B1C6E-2F8A-4C3D-9E5F-1A2B3C4D5E6F}';

function baseImages(): string {
  return defaultBaseImagesDir(root);
}

async function makeImage(
  opts: {
    vhdx?: boolean;
    mounted?: boolean;
    kernel?: [number, number, number, number];
    kernel32Only?: boolean;
  } = {},
  guid = GUID,
): Promise<string> {
  const folder = join(baseImages(), guid);
  await mkdir(folder, { recursive: true });
  if (opts.vhdx ?? true) await put(join(folder, 'BaseLayer.vhdx'), 'vhdx-bytes');
  if (opts.mounted) {
    const sys = join(folder, 'BaseLayer', 'Files', 'Windows', 'System32');
    await mkdir(join(folder, 'BaseLayer', 'Hives'), { recursive: true });
    await mkdir(sys, { recursive: true });
    if (opts.kernel) {
      await put(
        join(sys, opts.kernel32Only ? 'kernel32.dll' : 'ntoskrnl.exe'),
        buildPe({ fileVersion: opts.kernel }),
      );
    }
  }
  return folder;
}

describe('findHostBaseImage', () => {
  it('missing: no BaseImages folder (feature off)', async () => {
    const found = await findHostBaseImage({ programData: root });
    expect(found.state).toBe('missing');
    expect(found.reason).toMatch(/feature/);
    expect(found.baseImagesDir).toBe(baseImages());
  });

  it('missing: an empty BaseImages folder', async () => {
    await mkdir(baseImages(), { recursive: true });
    await put(join(baseImages(), 'not-a-guid', 'x'), 'x');
    const found = await findHostBaseImage({ programData: root });
    expect(found.state).toBe('missing');
    expect(found.candidates).toBe(0);
  });

  it('not-mounted: only BaseLayer.vhdx', async () => {
    const folder = await makeImage({ vhdx: true, mounted: false });
    const found = await findHostBaseImage({ programData: root });
    expect(found).toMatchObject({
      state: 'not-mounted',
      guid: GUID.slice(1, -1),
      folder,
      vhdxPath: join(folder, 'BaseLayer.vhdx'),
      candidates: 1,
    });
    expect(found.layerPath).toBeUndefined();
    expect(found.reason).toMatch(/not mounted/);
  });

  it('ready: mounted, build from ntoskrnl.exe', async () => {
    const folder = await makeImage({ mounted: true, kernel: [10, 0, 26100, 4061] });
    const found = await findHostBaseImage({ programData: root, hostBuild: 26100, hostRevision: 4061 });
    expect(found).toMatchObject({
      state: 'ready',
      layerPath: join(folder, 'BaseLayer'),
      osVersion: '10.0.26100.4061',
      build: 26100,
      revision: 4061,
      versionFile: join(folder, 'BaseLayer', 'Files', 'Windows', 'System32', 'ntoskrnl.exe'),
    });
  });

  it('falls back to kernel32.dll', async () => {
    await makeImage({ mounted: true, kernel: [10, 0, 22631, 1], kernel32Only: true });
    const found = await findHostBaseImage({ programData: root });
    expect(found.build).toBe(22631);
    expect(found.versionFile).toMatch(/kernel32\.dll$/);
  });

  it('ready with unknown build when no kernel file reads', async () => {
    await makeImage({ mounted: true });
    const found = await findHostBaseImage({ programData: root });
    expect(found.state).toBe('ready');
    expect(found.build).toBeUndefined();
    expect(found.reason).toMatch(/build unknown/);
  });

  it.each([
    [26100, undefined, 'stale'],
    [22631, undefined, 'ready'],
    [22631, 2900, 'stale'],
    [22631, 2861, 'ready'],
    [22000, 9999, 'ready'],
  ])('image 22631.2861 on host %i.%s → %s', async (hostBuild, hostRevision, state) => {
    await makeImage({ mounted: true, kernel: [10, 0, 22631, 2861] });
    const opts = { programData: root, hostBuild, ...(hostRevision === undefined ? {} : { hostRevision }) };
    const found = await findHostBaseImage(opts);
    expect(found.state).toBe(state);
    if (state === 'stale') expect(found.reason).toMatch(/older than the host/);
  });

  it('prefers the mounted image among several', async () => {
    await makeImage({ vhdx: true }, '{FFFFFFFF-0000-0000-0000-000000000000}');
    const mounted = await makeImage(
      { mounted: true, kernel: [10, 0, 1, 1] },
      '{00000000-0000-0000-0000-000000000000}',
    );
    const found = await findHostBaseImage({ programData: root });
    expect(found.folder).toBe(mounted);
    expect(found.candidates).toBe(2);
  });

  it('baseImagesDir overrides programData; readVersion is injectable', async () => {
    const dir = join(root, 'custom');
    await mkdir(join(dir, GUID, 'BaseLayer', 'Files'), { recursive: true });
    const found = await findHostBaseImage({
      baseImagesDir: dir,
      readVersion: async () => ({
        fileVersion: '10.0.5.6',
        productVersion: '10.0.5.6',
        major: 10,
        minor: 0,
        build: 5,
        revision: 6,
        machine: 0x8664,
      }),
    });
    expect(found.build).toBe(5);
  });
});

describe('HostBaseImageSource', () => {
  it('lists the mounted image as host/windows-sandbox and resolves its aliases', async () => {
    const folder = await makeImage({ mounted: true, kernel: [10, 0, 26100, 1] });
    const source = new HostBaseImageSource({ programData: root });
    const list = await source.list();
    const layerPath = join(folder, 'BaseLayer');
    expect(list).toEqual([
      {
        reference: HOST_IMAGE_REFERENCE,
        id: GUID.slice(1, -1),
        source: 'host',
        os: 'windows',
        osVersion: '10.0.26100.1',
        build: 26100,
        sizeBytes: 'vhdx-bytes'.length,
        layers: [{ id: defaultLayerId(layerPath), path: layerPath }],
      },
    ]);
    for (const alias of ['host', 'windows-sandbox', HOST_IMAGE_REFERENCE]) {
      expect((await source.resolve(alias))?.reference).toBe(HOST_IMAGE_REFERENCE);
    }
    expect(await source.resolve('nginx')).toBeUndefined();
  });

  it('lists nothing when the image is missing or not mounted', async () => {
    const source = new HostBaseImageSource({ programData: root });
    expect(await source.list()).toEqual([]);
    await makeImage({ vhdx: true });
    expect(await source.list()).toEqual([]);
    expect(await source.resolve('host')).toBeUndefined();
    expect((await source.find()).state).toBe('not-mounted');
  });
});
