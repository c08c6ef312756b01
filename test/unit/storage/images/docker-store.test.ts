import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/internal/errors.js';
import { chainIds } from '../../../../src/storage/images/chain-id.js';
import { DockerImageSource, dockerDataRoot } from '../../../../src/storage/images/docker-store.js';
import { ImageStoreError, type ImageWarning } from '../../../../src/storage/images/errors.js';
import { defaultLayerId } from '../../../../src/storage/images/layer-id.js';
import { makeDockerStore, put, sha256, tempRoot } from './fixtures.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot('docker'));
});
afterEach(() => cleanup());

const NANO = 'mcr.microsoft.com/windows/nanoserver:ltsc2022';

describe('chainIds', () => {
  it('follows Docker: chainID(n) = sha256(chainID(n-1) + " " + diffID(n))', () => {
    const a = sha256('a');
    const b = sha256('b');
    const c = sha256('c');
    const ab = sha256(`${a} ${b}`);
    expect(chainIds([a, b, c])).toEqual([a, ab, sha256(`${ab} ${c}`)]);
    expect(chainIds([])).toEqual([]);
  });
  it('rejects a diff id that is not a sha256 digest', () => {
    expect(() => chainIds(['sha256:xyz'])).toThrow(InvalidArgumentError);
  });
});

describe('DockerImageSource', () => {
  it('lists images with their layer chain top first, build, size and created', async () => {
    const [image] = await makeDockerStore(root, [
      {
        refs: [NANO, `mcr.microsoft.com/windows/nanoserver@${sha256('manifest')}`],
        osVersion: '10.0.20348.2227',
        created: '2024-01-01T00:00:00Z',
        layers: [
          { name: 'base', size: 300 },
          { name: 'update', size: 20 },
          { name: 'app', size: 1 },
        ],
      },
    ]);
    const source = new DockerImageSource({ root });
    const list = await source.list();
    expect(list).toHaveLength(1);
    const record = list[0]!;
    expect(record).toMatchObject({
      reference: NANO,
      id: image!.id,
      source: 'docker',
      os: 'windows',
      osVersion: '10.0.20348.2227',
      build: 20348,
      sizeBytes: 321,
      created: '2024-01-01T00:00:00Z',
    });
    expect(record.layers.map((l) => l.path)).toEqual(image!.folders);
    expect(record.layers.map((l) => l.id)).toEqual(image!.folders.map((f) => defaultLayerId(f)));
    // The folder of the top layer is its chain's graph-driver id.
    expect(record.layers[0]!.path).toBe(join(root, 'windowsfilter', image!.chainIds[2]!.slice(7)));
  });

  it('resolves familiar, full, digest and id forms; unknown gives undefined', async () => {
    const digest = sha256('manifest');
    const [a] = await makeDockerStore(root, [
      { refs: ['busybox:latest', `busybox@${digest}`], layers: [{ name: 'x' }], osVersion: '10.0.17763.1' },
    ]);
    const source = new DockerImageSource({ root });
    for (const ref of ['busybox', 'docker.io/library/busybox:latest', 'index.docker.io/library/busybox']) {
      const r = await source.resolve(ref);
      expect(r?.id).toBe(a!.id);
      expect(r?.reference).toBe('docker.io/library/busybox:latest');
    }
    expect((await source.resolve(`busybox@${digest}`))?.id).toBe(a!.id);
    expect((await source.resolve(`busybox:whatever@${digest}`))?.id).toBe(a!.id);
    expect((await source.resolve(a!.id))?.id).toBe(a!.id);
    expect(await source.resolve('busybox:2')).toBeUndefined();
    expect(await source.resolve(sha256('nope'))).toBeUndefined();
    // A digest-only image is listed under its digest reference, once.
    const list = await source.list();
    expect(list.map((r) => r.reference)).toEqual(['docker.io/library/busybox:latest']);
  });

  it('rejects a reference that does not parse', async () => {
    await makeDockerStore(root, [{ refs: ['a:1'], layers: [{ name: 'x' }] }]);
    await expect(new DockerImageSource({ root }).resolve('Bad Ref')).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('yields [] when Docker is not installed', async () => {
    const source = new DockerImageSource({ root: join(root, 'absent') });
    expect(await source.list()).toEqual([]);
    expect(await source.resolve('nginx')).toBeUndefined();
  });

  it('skips non-Windows images with a warning', async () => {
    await makeDockerStore(root, [
      { refs: ['linux:1'], os: 'linux', layers: [{ name: 'l' }] },
      { refs: ['win:1'], layers: [{ name: 'w' }] },
    ]);
    const warnings: ImageWarning[] = [];
    const list = await new DockerImageSource({ root, onWarning: (w) => warnings.push(w) }).list();
    expect(list.map((r) => r.reference)).toEqual(['docker.io/library/win:1']);
    expect(warnings[0]?.message).toMatch(/linux/);
  });

  it('uses the injected layerId and follows a layerID redirect file', async () => {
    const [image] = await makeDockerStore(root, [
      { refs: ['a:1'], layers: [{ name: 'base', cacheId: 'old' }] },
    ]);
    await put(join(root, 'windowsfilter', 'old', 'layerID'), 'newfolder');
    const record = await new DockerImageSource({
      root,
      layerId: (p) => `id-of-${p.split(/[\\/]/).pop()}`,
    }).resolve('a:1');
    expect(record?.layers).toEqual([
      { id: 'id-of-newfolder', path: join(root, 'windowsfilter', 'newfolder') },
    ]);
    expect(image).toBeDefined();
  });

  it('accepts a layerchain.json with Windows paths from another data root', async () => {
    const [image] = await makeDockerStore(root, [{ refs: ['a:1'], layers: [{ name: 'b' }, { name: 't' }] }]);
    const parent = image!.chainIds[0]!.slice(7).toUpperCase();
    await put(
      join(image!.folders[0]!, 'layerchain.json'),
      JSON.stringify([`D:\\docker\\windowsfilter\\${parent}`]),
    );
    expect((await new DockerImageSource({ root }).resolve('a:1'))?.layers).toHaveLength(2);
  });

  describe('broken stores', () => {
    it('a layerchain.json that disagrees', async () => {
      await makeDockerStore(root, [
        { refs: ['a:1'], layers: [{ name: 'b' }, { name: 't' }], layerChain: ['C:\\x\\other'] },
      ]);
      const source = new DockerImageSource({ root });
      await expect(source.resolve('a:1')).rejects.toThrow(/layerchain\.json lists \[other\]/);
      const warnings: ImageWarning[] = [];
      expect(await new DockerImageSource({ root, onWarning: (w) => warnings.push(w) }).list()).toEqual([]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.subject).toBe('docker.io/library/a:1');
    });

    it('a missing layerchain.json on a layer with parents', async () => {
      await makeDockerStore(root, [
        { refs: ['a:1'], layers: [{ name: 'b' }, { name: 't' }], layerChain: null },
      ]);
      await expect(new DockerImageSource({ root }).resolve('a:1')).rejects.toThrow(/no layerchain\.json/);
    });

    it('a missing layerdb entry', async () => {
      const [image] = await makeDockerStore(root, [{ refs: ['a:1'], layers: [{ name: 'b' }] }]);
      await rm(join(root, 'image', 'windowsfilter', 'layerdb', 'sha256', image!.chainIds[0]!.slice(7)), {
        recursive: true,
      });
      await expect(new DockerImageSource({ root }).resolve('a:1')).rejects.toThrow(/no layer for chain id/);
    });

    it('a missing image config', async () => {
      const [image] = await makeDockerStore(root, [{ refs: ['a:1'], layers: [{ name: 'b' }] }]);
      await rm(join(root, 'image', 'windowsfilter', 'imagedb', 'content', 'sha256', image!.id.slice(7)));
      const err = await new DockerImageSource({ root }).resolve('a:1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageStoreError);
      expect((err as ImageStoreError).code).toBe('IMAGE_STORE_CORRUPT');
      expect((err as ImageStoreError).path).toContain(image!.id.slice(7));
    });

    it('a config without diff ids', async () => {
      const [image] = await makeDockerStore(root, [{ refs: ['a:1'], layers: [{ name: 'b' }] }]);
      await put(
        join(root, 'image', 'windowsfilter', 'imagedb', 'content', 'sha256', image!.id.slice(7)),
        '{"os":"windows"}',
      );
      await expect(new DockerImageSource({ root }).resolve('a:1')).rejects.toThrow(/rootfs\.diff_ids/);
    });

    it.each([
      ['not JSON', '{', /not valid JSON/],
      ['no Repositories', '{}', /Repositories/],
      ['bad id', '{"Repositories":{"a":{"a:1":"nope"}}}', /not an image id/],
      ['bad reference', `{"Repositories":{"a":{"A A":"${sha256('x')}"}}}`, /does not parse/],
      ['repository not an object', '{"Repositories":{"a":1}}', /not an object/],
    ])('repositories.json: %s', async (_label, text, message) => {
      await put(join(root, 'image', 'windowsfilter', 'repositories.json'), text);
      const err = await new DockerImageSource({ root }).list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageStoreError);
      expect((err as Error).message).toMatch(message);
    });

    it('a cache-id that would leave the store', async () => {
      await makeDockerStore(root, [{ refs: ['a:1'], layers: [{ name: 'b', cacheId: 'ok' }] }]);
      const db = join(root, 'image', 'windowsfilter', 'layerdb', 'sha256');
      const { readdir } = await import('node:fs/promises');
      const [entry] = await readdir(db);
      await writeFile(join(db, entry!, 'cache-id'), '..');
      await expect(new DockerImageSource({ root }).resolve('a:1')).rejects.toThrow(/not a folder name/);
    });
  });
});

describe('dockerDataRoot', () => {
  it('root option wins', async () => {
    expect(await dockerDataRoot({ root: 'X', programData: root })).toBe('X');
  });
  it('defaults to <ProgramData>\\docker', async () => {
    expect(await dockerDataRoot({ programData: root })).toBe(join(root, 'docker'));
  });
  it('reads data-root (or graph) from daemon.json', async () => {
    await put(join(root, 'docker', 'config', 'daemon.json'), '\uFEFF{"data-root":"D:\\\\docker"}');
    expect(await dockerDataRoot({ programData: root })).toBe('D:\\docker');
    await put(join(root, 'docker', 'config', 'daemon.json'), '{"graph":"E:\\\\g"}');
    expect(await dockerDataRoot({ programData: root })).toBe('E:\\g');
  });
  it('a daemon.json that is not an object is a store error', async () => {
    await mkdir(join(root, 'docker', 'config'), { recursive: true });
    await writeFile(join(root, 'docker', 'config', 'daemon.json'), '[1]');
    await expect(dockerDataRoot({ programData: root })).rejects.toBeInstanceOf(ImageStoreError);
  });
  it('the source reads the data root from daemon.json', async () => {
    const dataRoot = join(root, 'elsewhere');
    await put(join(root, 'docker', 'config', 'daemon.json'), JSON.stringify({ 'data-root': dataRoot }));
    await makeDockerStore(dataRoot, [{ refs: ['a:1'], layers: [{ name: 'b' }] }]);
    const source = new DockerImageSource({ programData: root });
    expect(await source.root()).toBe(dataRoot);
    expect((await source.list()).map((r) => r.reference)).toEqual(['docker.io/library/a:1']);
  });
});
