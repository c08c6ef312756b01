import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/internal/errors.js';
import { storeRoot } from '../../../../src/internal/store-root.js';
import { ImageStoreError, PathOutsideStoreError } from '../../../../src/storage/images/errors.js';
import {
  OwnImageSource,
  ownStoreRoot,
  tempDirOwnerPid,
  writeAtomic,
} from '../../../../src/storage/images/own-store.js';
import type { ImageRecord } from '../../../../src/storage/types.js';
import { put, sha256, tempRoot } from './fixtures.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot('own'));
});
afterEach(() => cleanup());

function record(store: OwnImageSource, reference: string, chain: string[]): ImageRecord {
  return {
    reference,
    id: sha256(reference),
    source: 'hcs-sandbox',
    os: 'windows',
    osVersion: '10.0.26100.1',
    build: 26100,
    layers: chain.map((c) => ({ id: `id-${c}`, path: store.layerDir(sha256(c)) })),
  };
}

describe('ownStoreRoot', () => {
  it("root option, then HCS_SANDBOX_HOME, then %ProgramData%\\hcs-sandbox: the state store's root", () => {
    expect(ownStoreRoot({ root: 'R', env: { HCS_SANDBOX_HOME: 'H' } })).toBe('R');
    const win = { platform: 'win32' } as const;
    expect(ownStoreRoot({ ...win, env: { HCS_SANDBOX_HOME: 'E:\\H', ProgramData: 'P' } })).toBe('E:\\H');
    expect(ownStoreRoot({ ...win, env: { HCS_SANDBOX_HOME: '', ProgramData: 'D:\\P' } })).toBe(
      'D:\\P\\hcs-sandbox',
    );
    expect(ownStoreRoot({ ...win, env: {} })).toBe('C:\\ProgramData\\hcs-sandbox');
    for (const inputs of [
      { ...win, env: { ProgramData: 'D:\\P' } },
      { platform: 'linux', env: {}, home: '/h' },
    ] as const) {
      expect(ownStoreRoot(inputs)).toBe(storeRoot(inputs));
    }
  });
});

describe('OwnImageSource', () => {
  it('an empty store lists nothing', async () => {
    const store = new OwnImageSource({ root });
    expect(await store.list()).toEqual([]);
    expect(await store.resolve('nginx')).toBeUndefined();
  });

  it('adds, lists and resolves images by any reference form or id', async () => {
    const store = new OwnImageSource({ root });
    const stored = await store.addImage(
      record(store, 'mcr.microsoft.com/windows/nanoserver:ltsc2025', ['base']),
    );
    expect(stored.reference).toBe('mcr.microsoft.com/windows/nanoserver:ltsc2025');
    await store.addImage(record(store, 'app', ['base', 'app']));
    const list = await store.list();
    expect(list.map((r) => r.reference)).toEqual([
      'docker.io/library/app:latest',
      'mcr.microsoft.com/windows/nanoserver:ltsc2025',
    ]);
    expect(list.every((r) => r.source === 'hcs-sandbox')).toBe(true);
    expect((await store.resolve('docker.io/library/app'))?.layers).toHaveLength(2);
    expect((await store.resolve(sha256('app')))?.reference).toBe('docker.io/library/app:latest');
    // Another instance over the same root sees the same index.
    expect(await new OwnImageSource({ root }).list()).toEqual(list);
  });

  it('writes index.json atomically and leaves no temporary files', async () => {
    const store = new OwnImageSource({ root });
    await Promise.all(['a', 'b', 'c', 'd'].map((n) => store.addImage(record(store, n, [n]))));
    expect((await store.list()).map((r) => r.reference)).toHaveLength(4);
    expect(await readdir(join(root, 'images'))).toEqual(['index.json']);
    const json = JSON.parse(await readFile(store.indexPath, 'utf8'));
    expect(json.version).toBe(1);
  });

  it('layerDir maps a chain id to layers\\<hex> and rejects anything else', () => {
    const store = new OwnImageSource({ root });
    const c = sha256('x');
    expect(store.layerDir(c)).toBe(join(resolve(root), 'layers', c.slice(7)));
    expect(store.layerDir(c.slice(7))).toBe(store.layerDir(c));
    for (const bad of ['..', '../x', 'sha256:XYZ', '', c.toUpperCase()]) {
      const err = (() => {
        try {
          store.layerDir(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).field).toBe('chainId');
    }
  });

  it('tempDir creates distinct folders inside the store', async () => {
    const store = new OwnImageSource({ root });
    const a = await store.tempDir();
    const b = await store.tempDir();
    expect(a).not.toBe(b);
    expect((await stat(a)).isDirectory()).toBe(true);
    expect(() => store.assertInside(a, 'tmp')).not.toThrow();
    // The creator's pid in the name lets gc sweep the folder once that process is gone.
    expect(tempDirOwnerPid(basename(a))).toBe(process.pid);
    expect(tempDirOwnerPid('m1abc-0123456789ab')).toBeUndefined();
  });

  it('refuses layers outside the store with a typed error', async () => {
    const store = new OwnImageSource({ root });
    const bad = { ...record(store, 'x', ['b']), layers: [{ id: 'g', path: join(root, '..', 'elsewhere') }] };
    const err = await store.addImage(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PathOutsideStoreError);
    expect((err as PathOutsideStoreError).code).toBe('PATH_OUTSIDE_STORE');
    const sneaky = {
      ...record(store, 'x', ['b']),
      layers: [{ id: 'g', path: join(root, 'layers', '..', 'images') }],
    };
    await expect(store.addImage(sneaky)).rejects.toBeInstanceOf(PathOutsideStoreError);
    const layersRoot = { ...record(store, 'x', ['b']), layers: [{ id: 'g', path: join(root, 'layers') }] };
    await expect(store.addImage(layersRoot)).rejects.toBeInstanceOf(PathOutsideStoreError);
    expect(await store.list()).toEqual([]);
  });

  it.each([
    ['reference', { reference: 'Bad Ref' }],
    ['record.os', { os: 'linux' }],
    ['record.id', { id: '' }],
    ['record.layers', { layers: [] }],
    ['record.layers[0]', { layers: [{ id: 1 }] }],
  ])('addImage rejects a bad %s', async (field, patch) => {
    const store = new OwnImageSource({ root });
    const bad = { ...record(store, 'x', ['b']), ...patch } as unknown as ImageRecord;
    const err = await store.addImage(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });

  it('removeImage destroys only layers no other image uses', async () => {
    const store = new OwnImageSource({ root });
    await store.addImage(record(store, 'base', ['base']));
    await store.addImage(record(store, 'app', ['base', 'app']));
    const destroyed: string[] = [];
    const result = await store.removeImage('app:latest', {
      destroyLayer: async (p) => {
        destroyed.push(p);
      },
    });
    expect(result.removed.reference).toBe('docker.io/library/app:latest');
    expect(destroyed).toEqual([store.layerDir(sha256('app'))]);
    expect(result.destroyedLayers).toEqual(destroyed);
    expect(result.keptLayers).toEqual([store.layerDir(sha256('base'))]);
    expect((await store.list()).map((r) => r.reference)).toEqual(['docker.io/library/base:latest']);
  });

  it('removeImage without destroyLayer keeps every layer', async () => {
    const store = new OwnImageSource({ root });
    await store.addImage(record(store, 'app', ['base', 'app']));
    const result = await store.removeImage('app');
    expect(result.destroyedLayers).toEqual([]);
    expect(result.keptLayers).toHaveLength(2);
    expect(await store.list()).toEqual([]);
  });

  it('removeImage of an unknown image is a typed error and changes nothing', async () => {
    const store = new OwnImageSource({ root });
    await store.addImage(record(store, 'a', ['a']));
    const err = await store.removeImage('b').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('reference');
    await expect(store.removeImage('Not Valid')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await store.list()).toHaveLength(1);
  });

  it('removeImage never destroys a layer outside the store, even from a hand-edited index', async () => {
    const store = new OwnImageSource({ root });
    await put(
      store.indexPath,
      JSON.stringify({
        version: 1,
        images: {
          'docker.io/library/x:latest': { ...record(store, 'x', ['b']), layers: [{ id: 'g', path: '/etc' }] },
        },
      }),
    );
    const destroyed: string[] = [];
    const err = await store
      .removeImage('x', {
        destroyLayer: async (p) => {
          destroyed.push(p);
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PathOutsideStoreError);
    expect(destroyed).toEqual([]);
  });

  it('a corrupt index is a store error', async () => {
    const store = new OwnImageSource({ root });
    await put(store.indexPath, '{"version":2}');
    await expect(store.list()).rejects.toBeInstanceOf(ImageStoreError);
    await put(store.indexPath, 'nope');
    await expect(store.list()).rejects.toBeInstanceOf(ImageStoreError);
  });
});

describe('writeAtomic', () => {
  it('replaces the file and cleans its temporary file on failure', async () => {
    const path = join(root, 'sub', 'f.json');
    await writeAtomic(path, 'one');
    await writeAtomic(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    // Renaming over a folder fails: the temporary file must not be left behind.
    const dir = join(root, 'adir');
    await put(join(dir, 'x'), 'x');
    await expect(writeAtomic(dir, 'three')).rejects.toThrow();
    expect((await readdir(root)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await rm(dir, { recursive: true });
  });
});
