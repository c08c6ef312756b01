import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/internal/errors.js';
import { chainIds } from '../../../../src/storage/images/chain-id.js';
import {
  ContainerdImageSource,
  defaultContainerdRoot,
} from '../../../../src/storage/images/containerd-store.js';
import { ImageStoreError, type ImageWarning } from '../../../../src/storage/images/errors.js';
import { defaultLayerId } from '../../../../src/storage/images/layer-id.js';
import { type BoltTree, uvarint, varint, writeBolt } from './bolt-writer.js';
import { put, sha256, tempRoot } from './fixtures.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot('containerd'));
});
afterEach(() => cleanup());

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Img {
  name: string;
  namespace?: string;
  os?: string;
  osVersion?: string;
  layers: string[];
  /** Publish through a multi-platform index. */
  index?: boolean;
  /** Leave these layers (by position, base = 0) not unpacked. */
  notUnpacked?: number[];
}

async function blob(json: unknown): Promise<string> {
  const text = JSON.stringify(json);
  const digest = sha256(text);
  await put(join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256', digest.slice(7)), text);
  return digest;
}

/** Writes meta.db, the Windows snapshotter's metadata.db, the content blobs and the snapshot folders. */
async function makeContainerd(images: Img[]): Promise<Array<{ configDigest: string; folders: string[] }>> {
  const meta: BoltTree = { v1: {} };
  const v1 = meta.v1 as BoltTree;
  const snapshots: BoltTree = {};
  let nextId = 1;
  const out: Array<{ configDigest: string; folders: string[] }> = [];
  for (const img of images) {
    const ns = img.namespace ?? 'default';
    v1[ns] ??= { images: {}, snapshots: { windows: {} } };
    const nsb = v1[ns] as BoltTree;
    const diffIds = img.layers.map((l) => sha256(`diff:${l}`));
    const config: Record<string, unknown> = {
      os: img.os ?? 'windows',
      architecture: 'amd64',
      rootfs: { type: 'layers', diff_ids: diffIds },
    };
    if (img.osVersion) config['os.version'] = img.osVersion;
    const configDigest = await blob(config);
    const manifest = await blob({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { digest: configDigest },
      layers: [],
    });
    let target = manifest;
    let mediaType = MANIFEST;
    if (img.index) {
      target = await blob({
        schemaVersion: 2,
        mediaType: INDEX,
        manifests: [
          { digest: sha256('linux-manifest-not-pulled'), platform: { os: 'linux', architecture: 'amd64' } },
          { digest: sha256('arm-not-pulled'), platform: { os: 'windows', architecture: 'arm64' } },
          {
            digest: manifest,
            platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.9' },
          },
        ],
      });
      mediaType = INDEX;
    }
    (nsb.images as BoltTree)[img.name] = {
      target: { digest: target, mediatype: mediaType, size: varint(100) },
      createdat: new Uint8Array(15),
    };
    const folders: string[] = [];
    for (const [i, chainId] of chainIds(diffIds).entries()) {
      if (img.notUnpacked?.includes(i)) continue;
      const key = `${ns}/${nextId}/${chainId}`;
      const id = nextId++;
      ((nsb.snapshots as BoltTree).windows as BoltTree)[chainId] = { name: key, children: {} };
      snapshots[key] = { id: uvarint(id), kind: Uint8Array.of(3), size: varint(1000 * (i + 1)) };
      folders.push(join(root, 'io.containerd.snapshotter.v1.windows', 'snapshots', String(id)));
    }
    out.push({ configDigest, folders: folders.reverse() });
  }
  await put(join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'), writeBolt(meta, { maxLeafElements: 4 }));
  await put(
    join(root, 'io.containerd.snapshotter.v1.windows', 'metadata.db'),
    writeBolt({ v1: { snapshots } }, { pageSize: 4096 }),
  );
  return out;
}

describe('ContainerdImageSource', () => {
  it('lists images with layers from the windows snapshotter, top first', async () => {
    const [nano] = await makeContainerd([
      {
        name: 'mcr.microsoft.com/windows/nanoserver:ltsc2022',
        osVersion: '10.0.20348.2227',
        layers: ['base', 'app'],
      },
    ]);
    const list = await new ContainerdImageSource({ root }).list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      reference: 'mcr.microsoft.com/windows/nanoserver:ltsc2022',
      id: nano!.configDigest,
      source: 'containerd',
      os: 'windows',
      osVersion: '10.0.20348.2227',
      build: 20348,
      sizeBytes: 3000,
    });
    expect(list[0]!.layers).toEqual(nano!.folders.map((path) => ({ id: defaultLayerId(path), path })));
    expect(list[0]!.layers[1]!.path).toBe(
      join(root, 'io.containerd.snapshotter.v1.windows', 'snapshots', '1'),
    );
  });

  it('follows a multi-platform index to the windows/amd64 manifest it has', async () => {
    await makeContainerd([{ name: 'docker.io/library/app:1', index: true, layers: ['b'] }]);
    const source = new ContainerdImageSource({ root });
    const r = await source.resolve('app:1');
    expect(r?.reference).toBe('docker.io/library/app:1');
    // The build came from the index's platform entry, the config having none.
    expect(r?.build).toBe(20348);
    await expect(new ContainerdImageSource({ root, architecture: 'arm64' }).resolve('app:1')).rejects.toThrow(
      /no windows\/arm64 manifest/,
    );
  });

  it('resolves by reference form or config digest; unknown gives undefined', async () => {
    const [a] = await makeContainerd([
      { name: 'docker.io/library/a:latest', layers: ['x'] },
      { name: 'docker.io/library/b:latest', layers: ['y'] },
    ]);
    const source = new ContainerdImageSource({ root });
    expect((await source.resolve('a'))?.id).toBe(a!.configDigest);
    expect((await source.resolve(a!.configDigest))?.reference).toBe('docker.io/library/a:latest');
    expect(await source.resolve('c')).toBeUndefined();
    await expect(source.resolve('NOPE')).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('reads every namespace, or just one', async () => {
    await makeContainerd([
      { name: 'docker.io/library/a:1', layers: ['x'] },
      { name: 'docker.io/library/k:1', namespace: 'k8s.io', layers: ['y'] },
    ]);
    expect((await new ContainerdImageSource({ root }).list()).map((r) => r.reference)).toEqual([
      'docker.io/library/a:1',
      'docker.io/library/k:1',
    ]);
    expect(
      (await new ContainerdImageSource({ root, namespace: 'k8s.io' }).list()).map((r) => r.reference),
    ).toEqual(['docker.io/library/k:1']);
  });

  it('skips (with a warning) images not unpacked, not Windows, or not references', async () => {
    await makeContainerd([
      { name: 'docker.io/library/ok:1', layers: ['x'] },
      { name: 'docker.io/library/packed:1', layers: ['a', 'b'], notUnpacked: [1] },
      { name: 'docker.io/library/linux:1', os: 'linux', layers: ['l'] },
      { name: 'Not A Reference', layers: ['n'] },
    ]);
    const warnings: ImageWarning[] = [];
    const list = await new ContainerdImageSource({ root, onWarning: (w) => warnings.push(w) }).list();
    expect(list.map((r) => r.reference)).toEqual(['docker.io/library/ok:1']);
    expect(warnings.map((w) => w.message).join('\n')).toMatch(/not unpacked/);
    expect(warnings.map((w) => w.message).join('\n')).toMatch(/linux/);
    expect(warnings.map((w) => w.message).join('\n')).toMatch(/not a reference/);
    await expect(new ContainerdImageSource({ root }).resolve('packed:1')).rejects.toThrow(/not unpacked/);
  });

  it('yields [] when containerd is not installed', async () => {
    const source = new ContainerdImageSource({ root: join(root, 'absent') });
    expect(await source.list()).toEqual([]);
    expect(await source.resolve('a')).toBeUndefined();
  });

  it('a damaged meta.db is a store error naming the file', async () => {
    await put(join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'), 'not a database');
    const err = await new ContainerdImageSource({ root }).list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageStoreError);
    expect((err as ImageStoreError).path).toMatch(/meta\.db$/);
  });

  it('a missing config blob is a store error', async () => {
    const [a] = await makeContainerd([{ name: 'docker.io/library/a:1', layers: ['x'] }]);
    await rm(join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256', a!.configDigest.slice(7)));
    await expect(new ContainerdImageSource({ root }).resolve('a:1')).rejects.toThrow(/config missing/);
  });

  it('a missing snapshotter database is a store error', async () => {
    await makeContainerd([{ name: 'docker.io/library/a:1', layers: ['x'] }]);
    await rm(join(root, 'io.containerd.snapshotter.v1.windows', 'metadata.db'));
    await expect(new ContainerdImageSource({ root }).resolve('a:1')).rejects.toThrow(/no snapshot id/);
  });

  it('default root', () => {
    expect(defaultContainerdRoot('P')).toBe(join('P', 'containerd', 'root'));
    expect(new ContainerdImageSource({ programData: 'P' }).root).toBe(join('P', 'containerd', 'root'));
  });
});
