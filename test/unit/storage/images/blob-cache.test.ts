import { createHash } from 'node:crypto';
import {
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeRoot } from '../../../../src/internal/store-root.js';
import { StoreRootNotSecureError } from '../../../../src/storage/errors.js';
import { BlobCache, defaultBlobCacheDir } from '../../../../src/storage/images/blob-cache.js';

const blob = Buffer.from('the layer bytes a registry sent, '.repeat(1000));
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const VICTIM_TEXT = 'a file the pulling administrator can write and the planter cannot\n';

/** A registry that honours Range requests; counts the requests. */
function registry() {
  const offsets: number[] = [];
  const open = async (offset: number) => {
    offsets.push(offset);
    if (offset === 0) return new Response(blob);
    return new Response(blob.subarray(offset), {
      status: 206,
      headers: { 'content-range': `bytes ${offset}-${blob.length - 1}/${blob.length}` },
    });
  };
  return { open, offsets };
}

let work: string;
let victim: string;
let cache: BlobCache;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'hcs-blob-cache-'));
  victim = join(work, 'victim.txt');
  await writeFile(victim, VICTIM_TEXT);
  cache = new BlobCache(join(work, 'store', 'blobs'), { storeRoot: join(work, 'store') });
  await mkdir(join(work, 'store', 'blobs', 'sha256'), { recursive: true, mode: 0o700 });
  await chmod(join(work, 'store'), 0o700);
  await chmod(join(work, 'store', 'blobs'), 0o700);
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the blob cache never writes through a planted link', () => {
  it('a symbolic link at <hex>.partial pointing at a victim file: the victim is unchanged', async () => {
    await symlink(victim, cache.partialPath(digest));
    const { open, offsets } = registry();
    const result = await cache.fetch(digest, open, { size: blob.length });
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    // Not resumed from the victim's bytes: downloaded from byte 0 into a file of its own.
    expect(offsets).toEqual([0]);
    expect(result).toMatchObject({ resumedFrom: 0, cached: false });
    expect((await lstat(result.path)).isFile()).toBe(true);
    expect(await readFile(result.path)).toEqual(blob);
  });

  it('a hard link at <hex>.partial to a victim file: the victim is unchanged', async () => {
    await link(victim, cache.partialPath(digest));
    const { open, offsets } = registry();
    await cache.fetch(digest, open, { size: blob.length });
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect(offsets).toEqual([0]);
  });

  it('a dangling symbolic link at <hex>.partial creates nothing at its target', async () => {
    const target = join(work, 'created-by-the-pull');
    await symlink(target, cache.partialPath(digest));
    await cache.fetch(digest, registry().open, { size: blob.length });
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a symbolic link at the final name is not a cached blob: it is replaced, its target untouched', async () => {
    await symlink(victim, cache.path(digest));
    const result = await cache.fetch(digest, registry().open, { size: blob.length });
    expect(result.cached).toBe(false);
    expect(await readFile(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect((await lstat(cache.path(digest))).isFile()).toBe(true);
  });

  it('a real partial file of its own is still resumed with a Range request', async () => {
    await writeFile(cache.partialPath(digest), blob.subarray(0, 1000));
    const { open, offsets } = registry();
    const result = await cache.fetch(digest, open, { size: blob.length });
    expect(offsets).toEqual([1000]);
    expect(result.resumedFrom).toBe(1000);
    expect(await readFile(result.path)).toEqual(blob);
  });

  it('a new partial file is created readable by its owner only', async () => {
    let mode = 0;
    await cache.fetch(
      digest,
      async (offset) => {
        const response = await registry().open(offset);
        mode = (await stat(cache.partialPath(digest))).mode & 0o777;
        return response;
      },
      { size: blob.length },
    );
    expect(mode).toBe(0o600);
  });
});

describe('where the cache lives', () => {
  it('defaults to <store root>/blobs, not a shared temporary folder', () => {
    expect(defaultBlobCacheDir()).toBe(join(storeRoot(), 'blobs'));
    expect(defaultBlobCacheDir('/srv/hcs')).toBe(join('/srv/hcs', 'blobs'));
  });

  it.runIf(process.getuid?.() === 0)('refuses a cache folder another user owns', async () => {
    const shared = join(work, 'shared-blobs');
    await mkdir(shared, { mode: 0o700 });
    await chown(shared, 4321, 4321);
    const foreign = new BlobCache(shared);
    await expect(foreign.fetch(digest, registry().open)).rejects.toBeInstanceOf(StoreRootNotSecureError);
    await expect(stat(join(shared, 'sha256'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a world-writable cache folder (a shared temporary folder)', async () => {
    const shared = join(work, 'tmp-like');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    await expect(new BlobCache(shared).fetch(digest, registry().open)).rejects.toMatchObject({
      code: 'STORE_ROOT_NOT_SECURE',
    });
  });

  it('creates a missing store root and cache folder reachable by their owner only', async () => {
    const root = join(work, 'fresh');
    const fresh = new BlobCache(defaultBlobCacheDir(root), { storeRoot: root });
    await fresh.fetch(digest, registry().open, { size: blob.length });
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    expect((await stat(fresh.dir)).mode & 0o777).toBe(0o700);
  });
});
