import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/internal/errors.js';
import { DockerImageSource } from '../../../../src/storage/images/docker-store.js';
import { ImageNotFoundError, ImageStoreError } from '../../../../src/storage/images/errors.js';
import { defaultBaseImagesDir, HostBaseImageSource } from '../../../../src/storage/images/host-base-image.js';
import { OwnImageSource } from '../../../../src/storage/images/own-store.js';
import {
  defaultSources,
  listImages,
  resolveImage,
  type SourceFailure,
} from '../../../../src/storage/images/sources.js';
import type { ImageRecord, ImageSource } from '../../../../src/storage/types.js';
import { makeDockerStore, put, sha256, tempRoot } from './fixtures.js';
import { buildPe } from './pe-builder.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot('sources'));
});
afterEach(() => cleanup());

async function setup(): Promise<ImageSource[]> {
  const dockerRoot = join(root, 'docker');
  await makeDockerStore(dockerRoot, [
    { refs: ['shared:1'], osVersion: '10.0.20348.1', layers: [{ name: 'd', size: 5 }] },
    { refs: ['onlydocker:1'], osVersion: '10.0.17763.1', layers: [{ name: 'e', size: 7 }] },
  ]);
  const own = new OwnImageSource({ root: join(root, 'own') });
  await own.addImage({
    reference: 'shared:1',
    id: sha256('own'),
    source: 'hcs-sandbox',
    os: 'windows',
    build: 26100,
    layers: [{ id: 'g', path: own.layerDir(sha256('l')) }],
  });
  const baseImages = defaultBaseImagesDir(root);
  await mkdir(join(baseImages, '{11111111-2222-3333-4444-555555555555}', 'BaseLayer', 'Files'), {
    recursive: true,
  });
  await put(
    join(
      baseImages,
      '{11111111-2222-3333-4444-555555555555}',
      'BaseLayer',
      'Files',
      'Windows',
      'System32',
      'ntoskrnl.exe',
    ),
    buildPe({ fileVersion: [10, 0, 26100, 2] }),
  );
  return defaultSources({
    own: { root: join(root, 'own') },
    docker: { root: dockerRoot },
    containerd: { root: join(root, 'containerd-absent') },
    host: { programData: root },
  });
}

const summary = (r: ImageRecord) => [r.reference, r.source, r.build];

describe('listImages', () => {
  it('merges every source, sorted by reference then source order', async () => {
    const list = await listImages({ sources: await setup() });
    expect(list.map(summary)).toEqual([
      ['docker.io/library/onlydocker:1', 'docker', 17763],
      ['docker.io/library/shared:1', 'hcs-sandbox', 26100],
      ['docker.io/library/shared:1', 'docker', 20348],
      ['host/windows-sandbox', 'host', 26100],
    ]);
    expect(list.find((r) => r.source === 'docker' && r.reference.includes('onlydocker'))?.sizeBytes).toBe(7);
  });

  it('reports a broken source and lists the others, or throws without onSourceError', async () => {
    const sources = await setup();
    await put(join(root, 'docker', 'image', 'windowsfilter', 'repositories.json'), '{');
    const failures: SourceFailure[] = [];
    const list = await listImages({ sources, onSourceError: (f) => failures.push(f) });
    expect(list.map((r) => r.source)).toEqual(['hcs-sandbox', 'host']);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.source).toBe('docker');
    expect(failures[0]!.error).toBeInstanceOf(ImageStoreError);
    await expect(listImages({ sources })).rejects.toBeInstanceOf(ImageStoreError);
  });
});

describe('resolveImage', () => {
  it('takes our store first, then Docker; preferSource reorders', async () => {
    const sources = await setup();
    expect((await resolveImage('shared:1', { sources })).source).toBe('hcs-sandbox');
    expect((await resolveImage('shared:1', { sources, preferSource: 'docker' })).source).toBe('docker');
    expect((await resolveImage('onlydocker:1', { sources })).source).toBe('docker');
    expect((await resolveImage('host', { sources })).source).toBe('host');
  });

  it('not found names the sources searched', async () => {
    const sources = await setup();
    const err = await resolveImage('missing:1', { sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageNotFoundError);
    expect((err as ImageNotFoundError).code).toBe('IMAGE_NOT_FOUND');
    expect((err as ImageNotFoundError).searched).toEqual(['hcs-sandbox', 'docker', 'containerd', 'host']);
  });

  it('a reference no source accepts is an InvalidArgumentError', async () => {
    const sources = await setup();
    const err = await resolveImage('Not Valid', { sources }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageNotFoundError);
    // Every reference-parsing source rejects it; the host source just does not have it.
    const parsing = sources.filter((s) => s.name !== 'host');
    await expect(resolveImage('Not Valid', { sources: parsing })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it.each([
    ['reference', '', {}],
    ['preferSource', 'a', { preferSource: 'podman' }],
  ])('rejects a bad %s', async (field, reference, extra) => {
    const err = await resolveImage(reference, { sources: [], ...(extra as object) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });
});

describe('defaultSources', () => {
  it('one of each, in order, with exclusions', () => {
    expect(defaultSources().map((s) => s.name)).toEqual(['hcs-sandbox', 'docker', 'containerd', 'host']);
    expect(defaultSources({ exclude: ['containerd', 'host'] }).map((s) => s.name)).toEqual([
      'hcs-sandbox',
      'docker',
    ]);
    expect(defaultSources()[1]).toBeInstanceOf(DockerImageSource);
    expect(defaultSources()[3]).toBeInstanceOf(HostBaseImageSource);
  });
});
