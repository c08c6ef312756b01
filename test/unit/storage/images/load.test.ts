import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { chainIds } from '../../../../src/storage/images/chain-id.js';
import { DigestMismatchError } from '../../../../src/storage/images/digest.js';
import { loadImage } from '../../../../src/storage/images/load.js';
import { OwnImageSource } from '../../../../src/storage/images/own-store.js';
import {
  NotAnImageError,
  PlatformMismatchError,
  UnsafeLayerPathError,
} from '../../../../src/storage/images/registry-errors.js';
import { fakeImporter, scan } from '../../../support/registry/fake-import.js';
import {
  type BuiltImage,
  type BuiltLayer,
  buildImage,
  makeTar,
  OCI_INDEX,
  OCI_MANIFEST,
  sha256,
  type TarEntrySpec,
  windowsConfig,
  windowsLayer,
} from '../../../support/registry/push.js';

const LTSC2022 = '10.0.20348.2227';
const LTSC2019 = '10.0.17763.5329';

let work: string;
let root: string;
let store: OwnImageSource;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'load-test-'));
  root = join(work, 'store');
  store = new OwnImageSource({ root });
  return () => rm(work, { recursive: true, force: true });
});

async function expectStoreEmpty(): Promise<void> {
  expect(await scan(join(root, 'layers'))).toEqual([]);
  expect(await scan(join(root, 'tmp'))).toEqual([]);
  expect(await store.list()).toEqual([]);
}

const hex = (d: string) => d.slice('sha256:'.length);

/** A legacy `docker save` tar: <config hex>.json, <dir>/layer.tar, manifest.json, repositories. */
async function dockerSave(
  images: { tag: string; layers: BuiltLayer[]; osVersion: string; linkLayers?: Record<number, string> }[],
  options: { dropLayer?: boolean } = {},
): Promise<Buffer> {
  const entries: TarEntrySpec[] = [];
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  images.forEach((img, n) => {
    const config = windowsConfig(
      img.layers.map((l) => l.diffId),
      img.osVersion,
    );
    const configName = `${hex(sha256(config))}.json`;
    entries.push({ name: configName, content: config });
    const layerNames: string[] = [];
    img.layers.forEach((l, i) => {
      const dirName = `img${n}layer${i}`;
      const name = `${dirName}/layer.tar`;
      layerNames.push(name);
      entries.push({ name: dirName });
      entries.push({ name: `${dirName}/VERSION`, content: '1.0' });
      const link = img.linkLayers?.[i];
      if (link) entries.push({ name, type: 'symlink', linkname: link });
      else if (!(options.dropLayer && n === 0 && i === 1)) entries.push({ name, content: l.tar });
    });
    manifest.push({ Config: configName, RepoTags: [img.tag], Layers: layerNames });
  });
  entries.push({ name: 'manifest.json', content: JSON.stringify(manifest) });
  entries.push({ name: 'repositories', content: '{}' });
  return makeTar(entries);
}

/** An OCI layout (as tar entries) holding `images` under one index; `name` annotates each entry. */
function ociLayout(images: BuiltImage[], name?: string, options: { tamper?: string } = {}): TarEntrySpec[] {
  const blobs = new Map<string, Buffer>();
  for (const img of images) {
    blobs.set(img.manifestDigest, img.manifest);
    blobs.set(img.configDigest, img.config);
    for (const l of img.layers) blobs.set(l.digest, l.blob);
  }
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map((img) => ({
      mediaType: OCI_MANIFEST,
      digest: img.manifestDigest,
      size: img.manifest.length,
      platform: { os: 'windows', architecture: 'amd64', 'os.version': img.osVersion },
      ...(name ? { annotations: { 'org.opencontainers.image.ref.name': name } } : {}),
    })),
  };
  const entries: TarEntrySpec[] = [
    { name: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', content: JSON.stringify(index) },
    { name: 'blobs' },
    { name: 'blobs/sha256' },
  ];
  for (const [digest, data] of blobs) {
    const content = options.tamper === digest ? Buffer.concat([data, Buffer.from('x')]) : data;
    entries.push({ name: `blobs/sha256/${hex(digest)}`, content });
  }
  return entries;
}

async function file(name: string, data: Buffer): Promise<string> {
  const p = join(work, name);
  await writeFile(p, data);
  return p;
}

describe('loadImage', () => {
  it('loads a docker save tar (two images sharing a base through a symlinked layer.tar)', async () => {
    const base = await windowsLayer('base', { gzip: false });
    const app = await windowsLayer('app', { gzip: false });
    const tool = await windowsLayer('tool', { gzip: false });
    const tar = await dockerSave([
      { tag: 'example.com/win/app:1.0', layers: [base, app], osVersion: LTSC2022 },
      {
        tag: 'tool:latest',
        layers: [base, tool],
        osVersion: LTSC2022,
        linkLayers: { 0: '../img0layer0/layer.tar' },
      },
    ]);
    const { importLayer, calls } = fakeImporter();
    const records = await loadImage(await file('save.tar', tar), { store, importLayer, hostBuild: 20348 });
    expect(records.map((r) => r.reference)).toEqual([
      'example.com/win/app:1.0',
      'docker.io/library/tool:latest',
    ]);
    expect(records[0]).toMatchObject({ source: 'hcs-sandbox', osVersion: LTSC2022, build: 20348 });
    const chain = chainIds([base.diffId, app.diffId]);
    expect(records[0]!.layers.map((l) => l.path)).toEqual([
      store.layerDir(chain[1]!),
      store.layerDir(chain[0]!),
    ]);
    // base imported once, app and tool on top of it
    expect(calls).toHaveLength(3);
    expect(calls[2]!.parents.map((p) => p.path)).toEqual([store.layerDir(chain[0]!)]);
    expect(await readFile(join(records[1]!.layers[0]!.path, 'Files/Windows/tool.txt'), 'utf8')).toBe(
      'layer tool\n',
    );
    expect((await store.list()).length).toBe(2);
    expect(await scan(join(root, 'tmp'))).toEqual([]);
  });

  it('sets up the base layer once it is in its final folder, and only the base', async () => {
    const base = await windowsLayer('base', { gzip: false });
    const app = await windowsLayer('app', { gzip: false });
    const tar = await dockerSave([{ tag: 'x/app:1', layers: [base, app], osVersion: LTSC2022 }]);
    const setups: { path: string; inPlace: boolean }[] = [];
    const setupBaseLayer = async (path: string) => {
      setups.push({ path, inPlace: existsSync(join(path, 'Files')) });
    };
    const { importLayer } = fakeImporter();
    await loadImage(await file('save.tar', tar), { store, importLayer, setupBaseLayer, hostBuild: 20348 });
    const chain = chainIds([base.diffId, app.diffId]);
    expect(setups).toEqual([{ path: store.layerDir(chain[0]!), inPlace: true }]);
    // A second image on the same base: the base is in the store already, set up then.
    const tool = await windowsLayer('tool', { gzip: false });
    const tar2 = await dockerSave([{ tag: 'x/tool:1', layers: [base, tool], osVersion: LTSC2022 }]);
    await loadImage(await file('save2.tar', tar2), { store, importLayer, setupBaseLayer, hostBuild: 20348 });
    expect(setups).toHaveLength(1);
  });

  it('loads a gzip-compressed docker save tar', async () => {
    const base = await windowsLayer('base', { gzip: false });
    const tar = gzipSync(await dockerSave([{ tag: 'x/y:z', layers: [base], osVersion: LTSC2022 }]));
    const records = await loadImage(await file('save.tar.gz', tar), {
      store,
      importLayer: fakeImporter().importLayer,
    });
    expect(records[0]!.reference).toBe('docker.io/x/y:z');
  });

  it('loads an OCI layout (tar or folder), narrowing a multi-platform index with the host build', async () => {
    const base22 = await windowsLayer('base22');
    const base19 = await windowsLayer('base19');
    const app = await windowsLayer('app', { gzip: false });
    const images = [buildImage([base22, app], LTSC2022), buildImage([base19, app], LTSC2019)];
    const entries = ociLayout(images, 'registry.local/win/app:2');
    const tarPath = await file('oci.tar', await makeTar(entries));

    const { importLayer, calls } = fakeImporter();
    const records = await loadImage(tarPath, { store, importLayer, hostBuild: 17763 });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      reference: 'registry.local/win/app:2',
      id: images[1]!.configDigest,
      osVersion: LTSC2019,
    });
    expect(calls).toHaveLength(2);

    // the same layout as a folder
    const folder = join(work, 'layout');
    await mkdir(folder);
    for (const e of entries) {
      const p = join(folder, e.name);
      if (e.content === undefined) await mkdir(p, { recursive: true });
      else await writeFile(p, e.content);
    }
    const again = await loadImage(folder, {
      store,
      importLayer,
      hostBuild: 20348,
      reference: 'unused/name:x',
    });
    expect(again[0]!.osVersion).toBe(LTSC2022);

    const err = await loadImage(tarPath, { store, importLayer, hostBuild: 19041 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformMismatchError);
  });

  it('uses the reference option when the archive names none', async () => {
    const base = await windowsLayer('base');
    const entries = ociLayout([buildImage([base], LTSC2022)]);
    const records = await loadImage(await file('oci.tar', await makeTar(entries)), {
      store,
      importLayer: fakeImporter().importLayer,
      reference: 'mine/img:1',
    });
    expect(records[0]!.reference).toBe('docker.io/mine/img:1');
    await expect(
      loadImage(join(work, 'oci.tar'), { store, importLayer: fakeImporter().importLayer }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'reference' });
  });

  it('a tar that is not an image fails with NotAnImageError naming what is missing', async () => {
    const tar = await makeTar([
      { name: 'README', content: 'hello' },
      { name: 'data/x.bin', content: 'x' },
    ]);
    const err = await loadImage(await file('junk.tar', tar), {
      store,
      importLayer: fakeImporter().importLayer,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAnImageError);
    expect((err as NotAnImageError).code).toBe('NOT_AN_IMAGE');
    expect((err as NotAnImageError).missing).toEqual(['manifest.json', 'oci-layout', 'index.json']);
    await expectStoreEmpty();

    const onlyLayout = await makeTar([{ name: 'oci-layout', content: '{}' }]);
    const err2 = await loadImage(await file('half.tar', onlyLayout), {
      store,
      importLayer: fakeImporter().importLayer,
    }).catch((e: unknown) => e);
    expect((err2 as NotAnImageError).missing).toEqual(['index.json']);
  });

  it('a docker save tar missing a layer file fails with NotAnImageError naming it, leaving nothing', async () => {
    const base = await windowsLayer('base', { gzip: false });
    const app = await windowsLayer('app', { gzip: false });
    const tar = await dockerSave([{ tag: 'a/b:c', layers: [base, app], osVersion: LTSC2022 }], {
      dropLayer: true,
    });
    const err = await loadImage(await file('s.tar', tar), {
      store,
      importLayer: fakeImporter().importLayer,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAnImageError);
    expect((err as NotAnImageError).missing).toEqual(['img0layer1/layer.tar']);
    await expectStoreEmpty();
  });

  it('a tampered OCI blob fails with DigestMismatchError, leaving nothing', async () => {
    const base = await windowsLayer('base');
    const app = await windowsLayer('app');
    const image = buildImage([base, app], LTSC2022);
    const entries = ociLayout([image], 'a/b:c', { tamper: app.digest });
    const err = await loadImage(await file('t.tar', await makeTar(entries)), {
      store,
      importLayer: fakeImporter().importLayer,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as DigestMismatchError).expected).toBe(app.digest);
    await expectStoreEmpty();
  });

  it('an archive with a path-traversal entry fails with UnsafeLayerPathError, writing nothing outside', async () => {
    const tar = await makeTar([
      { name: 'manifest.json', content: '[]' },
      { name: '../../escaped.txt', content: 'evil' },
    ]);
    const err = await loadImage(await file('evil.tar', tar), {
      store,
      importLayer: fakeImporter().importLayer,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerPathError);
    expect(existsSync(join(root, 'escaped.txt'))).toBe(false);
    expect(existsSync(join(work, 'escaped.txt'))).toBe(false);
    await expectStoreEmpty();
  });

  it('a layer with a path-traversal entry fails with UnsafeLayerPathError, leaving nothing', async () => {
    const base = await windowsLayer('base', {
      gzip: false,
      extra: [{ name: 'Files/../../../x', content: 'evil' }],
    });
    const tar = await dockerSave([{ tag: 'a/b:c', layers: [base], osVersion: LTSC2022 }]);
    const err = await loadImage(await file('s.tar', tar), {
      store,
      importLayer: fakeImporter().importLayer,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerPathError);
    await expectStoreEmpty();
  });

  it('a missing file is NotAnImageError', async () => {
    await expect(
      loadImage(join(work, 'nope.tar'), { store, importLayer: fakeImporter().importLayer }),
    ).rejects.toBeInstanceOf(NotAnImageError);
  });
});
