import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BlobCache } from '../../../../src/storage/images/blob-cache.js';
import { chainIds } from '../../../../src/storage/images/chain-id.js';
import { DigestMismatchError } from '../../../../src/storage/images/digest.js';
import { OwnImageSource } from '../../../../src/storage/images/own-store.js';
import { pullImage } from '../../../../src/storage/images/pull.js';
import {
  NotAWindowsLayerError,
  PlatformMismatchError,
  RegistryError,
} from '../../../../src/storage/images/registry-errors.js';
import type { Progress } from '../../../../src/storage/types.js';
import { fakeImporter, scan } from '../../../support/registry/fake-import.js';
import { startProxy, type TestProxy } from '../../../support/registry/proxy.js';
import {
  type BuiltImage,
  type BuiltLayer,
  buildImage,
  makeTar,
  pushImage,
  pushMultiPlatform,
  windowsLayer,
} from '../../../support/registry/push.js';
import { startRegistry, type TestRegistry } from '../../../support/registry/server.js';

const LTSC2022 = '10.0.20348.2227';
const LTSC2019 = '10.0.17763.5329';

let registry: TestRegistry;
let base2022: BuiltLayer;
let base2019: BuiltLayer;
let app: BuiltLayer;
let big: BuiltLayer;
let img2022: BuiltImage;
let img2019: BuiltImage;

beforeAll(async () => {
  registry = await startRegistry();
  base2022 = await windowsLayer('base2022');
  base2019 = await windowsLayer('base2019');
  app = await windowsLayer('app', {
    extra: [{ name: 'Files/Windows/.wh.removed.dll', content: '' }],
  });
  big = await windowsLayer('big', { bigFileBytes: 2 * 1024 * 1024 });
  img2022 = buildImage([base2022, app], LTSC2022);
  img2019 = buildImage([base2019, app], LTSC2019);
  await pushMultiPlatform(registry.url, 'windows/app', 'multi', [img2022, img2019]);
  await pushMultiPlatform(registry.url, 'windows/app', 'docker-list', [img2022, img2019], { docker: true });
  await pushImage(registry.url, 'windows/big', buildImage([base2022, big], LTSC2022), 'latest');
}, 60_000);

afterAll(async () => {
  await registry?.stop();
});

let work: string;
let root: string;
let cacheDir: string;
let store: OwnImageSource;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'pull-test-'));
  root = join(work, 'store');
  cacheDir = join(work, 'blobs');
  store = new OwnImageSource({ root });
  return () => rm(work, { recursive: true, force: true });
});

/** After a failure: no layer, no work folder, no image in the store. */
async function expectStoreEmpty(): Promise<void> {
  expect(await scan(join(root, 'layers'))).toEqual([]);
  expect(await scan(join(root, 'tmp'))).toEqual([]);
  expect(await store.list()).toEqual([]);
}

describe('pullImage against a real registry', () => {
  it('pulls the manifest matching the host build, imports each layer on its parents, records the image', async () => {
    const { importLayer, calls } = fakeImporter();
    const events: Progress[] = [];
    const result = await pullImage(`${registry.host}/windows/app:multi`, {
      store,
      importLayer,
      hostBuild: 20348,
      cacheDir,
      onProgress: (p) => events.push(p),
    });
    const chain = chainIds([base2022.diffId, app.diffId]);
    expect(result.manifestDigest).toBe(img2022.manifestDigest);
    expect(result.image).toMatchObject({
      reference: `${registry.host}/windows/app:multi`,
      id: img2022.configDigest,
      source: 'hcs-sandbox',
      os: 'windows',
      osVersion: LTSC2022,
      build: 20348,
      sizeBytes: base2022.size + app.size,
    });
    // top first, base last, at their final folders
    expect(result.image.layers.map((l) => l.path)).toEqual([
      store.layerDir(chain[1]!),
      store.layerDir(chain[0]!),
    ]);
    expect(await readFile(join(store.layerDir(chain[1]!), 'Files/Windows/app.txt'), 'utf8')).toBe(
      'layer app\n',
    );
    expect(await readFile(join(store.layerDir(chain[1]!), 'tombstones.txt'), 'utf8')).toContain(
      '\\Windows\\removed.dll',
    );
    // base imported with no parents, then app with the base (nearest first)
    expect(calls).toHaveLength(2);
    expect(calls[0]!.parents).toEqual([]);
    expect(calls[1]!.parents).toHaveLength(1);
    expect(calls[1]!.parents[0]!.id).toBe(result.image.layers[1]!.id);
    expect(calls[1]!.parents[0]!.path).toBe(calls[0]!.layerPath);
    // the transport format: each root folder with its .$wcidirs$ entry, and tombstones.txt
    expect(calls[0]!.sourceEntries).toEqual([
      'Files',
      'Files.$wcidirs$',
      'Hives',
      'Hives.$wcidirs$',
      'tombstones.txt',
    ]);
    expect(calls.every((c) => c.layerPath.startsWith(join(root, 'tmp')))).toBe(true);
    expect(await store.resolve(`${registry.host}/windows/app:multi`)).toEqual(result.image);
    // progress: download bytes per layer digest, then extract, import, done
    const downloads = events.filter((e) => e.phase === 'download' && e.item === app.digest);
    expect(downloads.at(-1)).toMatchObject({ done: app.size, total: app.size });
    expect(events.some((e) => e.phase === 'import' && e.item === base2022.digest && e.done === 1)).toBe(true);
    expect(events.at(-1)?.phase).toBe('done');
    expect(await scan(join(root, 'tmp'))).toEqual([]);
    // blobs are not kept by default
    expect(await scan(join(cacheDir, 'sha256'))).toEqual([]);
  });

  it('skips layers the store already has (by chain id) and reads Docker manifest lists', async () => {
    const first = fakeImporter();
    await pullImage(`${registry.host}/windows/app:multi`, {
      store,
      importLayer: first.importLayer,
      hostBuild: 20348,
      cacheDir,
    });
    const second = fakeImporter();
    const result = await pullImage(`${registry.host}/windows/app:docker-list`, {
      store,
      importLayer: second.importLayer,
      hostBuild: 20348,
      cacheDir,
    });
    expect(second.calls).toHaveLength(0);
    expect(result.layers.map((l) => l.imported)).toEqual([false, false]);
    expect((await store.list()).map((r) => r.reference).sort()).toEqual([
      `${registry.host}/windows/app:docker-list`,
      `${registry.host}/windows/app:multi`,
    ]);
  });

  it('pulls by digest', async () => {
    const { importLayer } = fakeImporter();
    const result = await pullImage(`${registry.host}/windows/app@${img2019.manifestDigest}`, {
      store,
      importLayer,
      hostBuild: 17763,
      cacheDir,
    });
    expect(result.image.osVersion).toBe(LTSC2019);
  });

  it('fails with PlatformMismatchError listing what the index offers; allowOlderBuild picks the newest older build', async () => {
    const { importLayer, calls } = fakeImporter();
    const err = await pullImage(`${registry.host}/windows/app:multi`, {
      store,
      importLayer,
      hostBuild: 19041,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformMismatchError);
    const e = err as PlatformMismatchError;
    expect(e.code).toBe('PLATFORM_MISMATCH');
    expect(e.hostBuild).toBe(19041);
    expect(e.offered.map((o) => o.osVersion)).toEqual([LTSC2022, LTSC2019]);
    expect(e.message).toContain(LTSC2019);
    expect(e.message).toContain('allowOlderBuild');
    expect(calls).toHaveLength(0);
    await expectStoreEmpty();

    const older = await pullImage(`${registry.host}/windows/app:multi`, {
      store,
      importLayer,
      hostBuild: 22631,
      allowOlderBuild: true,
      cacheDir,
    });
    expect(older.image.osVersion).toBe(LTSC2022);
    const oldest = await pullImage(`${registry.host}/windows/app:multi`, {
      store,
      importLayer,
      hostBuild: 19041,
      allowOlderBuild: true,
      cacheDir,
    });
    expect(oldest.image.osVersion).toBe(LTSC2019);
  });

  it('checks a single-platform manifest against the host build too', async () => {
    const err = await pullImage(`${registry.host}/windows/big:latest`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 17763,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformMismatchError);
  });

  it('a missing tag is a RegistryError with the registry code', async () => {
    const err = await pullImage(`${registry.host}/windows/app:nope`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).status).toBe(404);
    expect((err as RegistryError).registryCodes).toContain('MANIFEST_UNKNOWN');
  });

  it('a config whose diff id does not match the layer fails with DigestMismatchError and leaves nothing', async () => {
    const wrong = buildImage([base2022, app], LTSC2022, { diffIds: [base2022.diffId, base2019.diffId] });
    await pushImage(registry.url, 'windows/wrong-diffid', wrong, 'latest');
    const { importLayer, calls } = fakeImporter();
    const err = await pullImage(`${registry.host}/windows/wrong-diffid:latest`, {
      store,
      importLayer,
      hostBuild: 20348,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as DigestMismatchError).expected).toBe(base2019.diffId);
    expect(calls).toHaveLength(1); // the base was imported (staged), then rolled back
    await expectStoreEmpty();
  });

  it('a non-Windows layer fails with NotAWindowsLayerError and leaves nothing', async () => {
    const linuxTar = await makeTar([{ name: 'bin' }, { name: 'bin/sh', content: '#!' }]);
    const { gzipSync } = await import('node:zlib');
    const blob = gzipSync(linuxTar);
    const { sha256 } = await import('../../../support/registry/push.js');
    const linux: BuiltLayer = {
      tar: linuxTar,
      diffId: sha256(linuxTar),
      blob,
      digest: sha256(blob),
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      size: blob.length,
    };
    await pushImage(registry.url, 'windows/linuxish', buildImage([base2022, linux], LTSC2022), 'latest');
    const err = await pullImage(`${registry.host}/windows/linuxish:latest`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAWindowsLayerError);
    await expectStoreEmpty();
  });

  it('a failing importer leaves nothing in the store', async () => {
    const { importLayer } = fakeImporter({ failOnCall: 2 });
    await expect(
      pullImage(`${registry.host}/windows/app:multi`, { store, importLayer, hostBuild: 20348, cacheDir }),
    ).rejects.toThrow(/failed on purpose/);
    await expectStoreEmpty();
  });

  it('an aborted signal stops the pull', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(
      pullImage(`${registry.host}/windows/app:multi`, {
        store,
        importLayer: fakeImporter().importLayer,
        hostBuild: 20348,
        cacheDir,
        signal: ac.signal,
      }),
    ).rejects.toThrow();
    await expectStoreEmpty();
  });
});

describe('pullImage through a misbehaving proxy', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy(registry.url);
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  beforeEach(() => {
    proxy.requests.length = 0;
    proxy.tokenRequests.length = 0;
    for (const k of Object.keys(proxy.behaviour)) delete proxy.behaviour[k as keyof typeof proxy.behaviour];
  });

  it('a corrupted blob fails with DigestMismatchError, removes the partial file and leaves nothing', async () => {
    proxy.behaviour.corruptBlob = app.digest;
    const err = await pullImage(`${proxy.host}/windows/app:multi`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as DigestMismatchError).expected).toBe(app.digest);
    expect(existsSync(new BlobCache(cacheDir).partialPath(app.digest))).toBe(false);
    expect(existsSync(new BlobCache(cacheDir).path(app.digest))).toBe(false);
    await expectStoreEmpty();
  });

  it('an interrupted download is resumed with a Range request on the next pull', async () => {
    proxy.behaviour.cutBlob = big.digest;
    proxy.behaviour.cutAfterBytes = 300_000;
    const ref = `${proxy.host}/windows/big:latest`;
    const first = await pullImage(ref, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
      concurrency: 1,
    }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    await expectStoreEmpty();
    const partial = new BlobCache(cacheDir).partialPath(big.digest);
    const kept = (await stat(partial)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(300_000);

    const { importLayer, calls } = fakeImporter();
    const second = await pullImage(ref, { store, importLayer, hostBuild: 20348, cacheDir });
    const ranged = proxy.requests.filter((r) => r.path.includes(big.digest) && r.range);
    expect(ranged).toEqual([expect.objectContaining({ range: `bytes=${kept}-`, status: 206 })]);
    expect(second.layers.find((l) => l.digest === big.digest)?.resumedFrom).toBe(kept);
    expect(calls).toHaveLength(2);
    expect((await stat(join(second.image.layers[0]!.path, 'Files/big.bin'))).size).toBe(2 * 1024 * 1024);
    expect(existsSync(partial)).toBe(false);
  });

  it('restarts cleanly when the server ignores Range', async () => {
    const cache = new BlobCache(cacheDir);
    await import('node:fs/promises').then((fs) => fs.mkdir(join(cacheDir, 'sha256'), { recursive: true }));
    await writeFile(cache.partialPath(big.digest), big.blob.subarray(0, 1000));
    proxy.behaviour.ignoreRange = true;
    const result = await pullImage(`${proxy.host}/windows/big:latest`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
    });
    expect(proxy.requests.filter((r) => r.path.includes(big.digest)).map((r) => r.status)).toEqual([200]);
    expect(result.layers.find((l) => l.digest === big.digest)?.resumedFrom).toBe(0);
  });

  it('a garbage partial file that the server lets us resume is caught by the digest and removed', async () => {
    const cache = new BlobCache(cacheDir);
    await import('node:fs/promises').then((fs) => fs.mkdir(join(cacheDir, 'sha256'), { recursive: true }));
    await writeFile(cache.partialPath(big.digest), Buffer.alloc(1000, 7));
    const err = await pullImage(`${proxy.host}/windows/big:latest`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect(existsSync(cache.partialPath(big.digest))).toBe(false);
    await expectStoreEmpty();
  });

  it('follows the anonymous Bearer token flow (WWW-Authenticate realm, service, scope)', async () => {
    proxy.behaviour.bearer = { token: 'tok-123', service: 'test-registry' };
    const result = await pullImage(`${proxy.host}/windows/app:multi`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
    });
    expect(result.image.osVersion).toBe(LTSC2022);
    expect(proxy.tokenRequests.length).toBeGreaterThan(0);
    const q = new URL(proxy.tokenRequests[0]!, proxy.url).searchParams;
    expect(q.get('service')).toBe('test-registry');
    expect(q.get('scope')).toBe('repository:windows/app:pull');
    const authorised = proxy.requests.filter((r) => r.status !== 401);
    expect(authorised.every((r) => r.authorization === 'Bearer tok-123')).toBe(true);
  });

  it('sends basic credentials to the token service', async () => {
    proxy.behaviour.bearer = { token: 'tok-456', service: 'svc', username: 'alice', password: 's3cret' };
    const denied = await pullImage(`${proxy.host}/windows/app:multi`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
    }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(RegistryError);
    expect((denied as RegistryError).code).toBe('REGISTRY_UNAUTHORIZED');
    const ok = await pullImage(`${proxy.host}/windows/app:multi`, {
      store,
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
      credentials: { username: 'alice', password: 's3cret' },
    });
    expect(ok.image.build).toBe(20348);
  });
});

it('keeps blobs when asked', async () => {
  const { importLayer } = fakeImporter();
  await pullImage(`${registry.host}/windows/app:multi`, {
    store,
    importLayer,
    hostBuild: 20348,
    cacheDir,
    keepBlobs: true,
  });
  expect((await readdir(join(cacheDir, 'sha256'))).sort()).toEqual(
    [base2022.digest, app.digest].map((d) => d.slice(7)).sort(),
  );
});
