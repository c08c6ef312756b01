import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkVmImageName,
  VmImageCorruptError,
  VmImageExistsError,
  VmImageNotFoundError,
  VmImageStore,
} from '../../../src/storage/vm-images/index.js';

const source = { kind: 'wim' as const, path: '/media/install.wim', index: 6 };
let root: string;
let store: VmImageStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vm-images-'));
  store = new VmImageStore({ root });
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('VmImageStore', () => {
  it('keeps a build as building until finish, then lists it ready with its facts', async () => {
    const begun = await store.begin('win11', source);
    expect(begun).toMatchObject({ status: 'building', stepsDone: [], builderPid: process.pid });
    await expect(store.require('win11')).rejects.toThrow(/build has not finished/);
    await store.stepDone('win11', 'create-disk');
    await store.stepDone('win11', 'create-disk');
    await store.learn('win11', { build: 26100, edition: 'Professional' });
    const ready = await store.finish('win11', { sizeBytes: 64 * 2 ** 30 });
    expect(ready).toMatchObject({ status: 'ready', stepsDone: ['create-disk'], build: 26100 });
    expect(ready.builderPid).toBeUndefined();
    expect(await store.require('win11')).toEqual(ready);
    expect((await store.list()).images.map((i) => i.name)).toEqual(['win11']);
  });

  it('resumes an interrupted build of the same media and refuses other media or a ready image', async () => {
    await store.begin('win11', source);
    await store.stepDone('win11', 'create-disk');
    const resumed = await store.begin('win11', source);
    expect(resumed.stepsDone).toEqual(['create-disk']);
    await expect(store.begin('win11', { ...source, index: 1 })).rejects.toBeInstanceOf(VmImageExistsError);
    await store.finish('win11', { sizeBytes: 1 });
    await expect(store.begin('win11', source)).rejects.toThrow(/exists already/);
  });

  it('refuses a build another live process runs', async () => {
    await store.begin('win11', source);
    const path = store.pathsOf('win11').record;
    const record = JSON.parse(await readFile(path, 'utf8'));
    // The parent of this test process is alive and is not us.
    await writeFile(path, JSON.stringify({ ...record, builderPid: process.ppid }));
    await expect(store.begin('win11', source)).rejects.toThrow(/being built by process/);
    await expect(store.remove('win11')).rejects.toBeInstanceOf(VmImageExistsError);
  });

  it('reports a corrupt record by path, and lists it as a warning', async () => {
    await store.begin('win11', source);
    await writeFile(store.pathsOf('win11').record, '{"version":1,"name":"other"}');
    await expect(store.get('win11')).rejects.toBeInstanceOf(VmImageCorruptError);
    const listing = await store.list();
    expect(listing.images).toEqual([]);
    expect(listing.warnings[0]?.message).toMatch(/field name/);
  });

  it('removes an image and its folder; a missing one is not found', async () => {
    await store.begin('win11', source);
    await store.remove('win11');
    expect(await store.get('win11')).toBeUndefined();
    await expect(store.remove('win11')).rejects.toBeInstanceOf(VmImageNotFoundError);
    await expect(store.require('nope')).rejects.toThrow(/vm image build/);
  });

  it('refuses names that could leave the store', () => {
    for (const bad of ['', '..', 'a/b', 'a\\b', 'Win11', '.hidden', 'a..b', 'x'.repeat(64), 7])
      expect(() => checkVmImageName('image', bad)).toThrow(/Invalid image/);
    expect(checkVmImageName('image', 'win11-24h2.pro_1')).toBe('win11-24h2.pro_1');
  });
});
