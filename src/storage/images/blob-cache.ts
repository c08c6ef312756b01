/**
 * A folder of verified blobs, `<dir>/sha256/<hex>`. Downloads stream into
 * `<hex>.partial` while hashing; a blob is renamed to its final name only once
 * its sha256 matches, so a present blob is a verified blob. An interrupted
 * download leaves the `.partial` file; the next download of the same digest
 * resumes it with a `Range` request (and restarts cleanly when the server
 * ignores the range). A digest mismatch removes the partial file.
 *
 * The cache folder is a store root's `blobs` folder or checked like one
 * (`secureStoreRoot`), and a partial file is never opened through a link: a
 * pull runs elevated, and a link planted at `<hex>.partial` would otherwise
 * make it write the download over any file (see `openPartial`).
 */
import { createHash, type Hash } from 'node:crypto';
import { type BigIntStats, constants as fsConstants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from '../../internal/atomic-file.js';
import { exists } from '../../internal/fs.js';
import { storeRoot } from '../../internal/store-root.js';
import { secureStoreRoot } from '../store-root-security.js';
import type { Progress } from '../types.js';
import { assertDigest, DigestMismatchError, digestHex } from './digest.js';
import { idleChunks, REGISTRY_LIMITS } from './registry-limits.js';

/** Opens the blob's bytes from `offset` on (a `Range` request when `offset > 0`). */
export type BlobOpener = (offset: number, signal?: AbortSignal) => Promise<Response>;

export interface BlobFetchOptions {
  /** The blob's size from its descriptor, when known: reported as `total` and checked. */
  size?: number;
  /** Called as bytes arrive: `{ item: digest, phase: 'download', done, total }`. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** What to call the blob in errors (default: its digest). */
  subject?: string;
  /**
   * Milliseconds the download may go without a byte before it fails with a
   * `RegistryError` (default `REGISTRY_LIMITS.idleTimeoutMs`). The partial file is
   * kept, as for any interrupted download, so the next pull resumes it.
   */
  idleTimeoutMs?: number;
  /**
   * The slowest the download may be, bytes per second over each idle window
   * (default `REGISTRY_LIMITS.minBytesPerSecond`); the partial file is kept, as above.
   */
  minBytesPerSecond?: number;
}

/** What a finished fetch did, for tests and logs. */
export interface BlobFetchResult {
  path: string;
  /** Bytes already on disk from an earlier interrupted download that the server accepted to continue. */
  resumedFrom: number;
  /** The blob was already in the cache. */
  cached: boolean;
}

/**
 * Where `pullImage` keeps its blob cache unless told otherwise (`gc` sweeps its
 * partial files): `<store root>\blobs`, inside the folder only administrators
 * can write, never a shared temporary folder another user could plant links in.
 */
export function defaultBlobCacheDir(root: string = storeRoot()): string {
  return join(root, 'blobs');
}

export interface BlobCacheOptions {
  /**
   * The store root the cache folder lies in, secured (`secureStoreRoot`) before
   * the cache folder is created inside it, so the folder inherits its DACL.
   */
  storeRoot?: string;
}

/** The suffix of an interrupted download, `<dir>/sha256/<hex>.partial`. */
export const PARTIAL_SUFFIX = '.partial';

const inFlight = new Map<string, Promise<BlobFetchResult>>();

export class BlobCache {
  readonly dir: string;
  readonly #storeRoot: string | undefined;

  /** `dir` is checked like a store root before the first download (ours, not a link, nobody else's). */
  constructor(dir: string, options: BlobCacheOptions = {}) {
    this.dir = dir;
    this.#storeRoot = options.storeRoot;
  }

  /** Where the verified blob lives (whether or not it is there yet). */
  path(digest: string): string {
    return join(this.dir, 'sha256', digestHex(assertDigest(digest, 'digest')));
  }

  partialPath(digest: string): string {
    return `${this.path(digest)}${PARTIAL_SUFFIX}`;
  }

  async has(digest: string): Promise<boolean> {
    return exists(this.path(digest));
  }

  /** Removes a blob and any partial download of it. */
  async remove(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
    await rm(this.partialPath(digest), { force: true });
  }

  /**
   * Makes sure the blob is in the cache: downloads it (resuming a partial
   * download) and verifies its sha256 while streaming. Concurrent fetches of the
   * same digest in this process share one download.
   */
  fetch(digest: string, openBlob: BlobOpener, options: BlobFetchOptions = {}): Promise<BlobFetchResult> {
    const key = this.path(digest);
    const running = inFlight.get(key);
    if (running) return running;
    const p = this.download(digest, openBlob, options).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  }

  private async download(
    digest: string,
    openBlob: BlobOpener,
    options: BlobFetchOptions,
  ): Promise<BlobFetchResult> {
    const { size, onProgress, signal } = options;
    const subject = options.subject ?? `blob ${digest}`;
    const final = this.path(digest);
    const report = (done: number) =>
      onProgress?.({ item: digest, phase: 'download', done, ...(size !== undefined ? { total: size } : {}) });
    const cached = await lstatIfExists(final);
    if (cached?.isFile() && cached.nlink === 1) {
      report(cached.size);
      return { path: final, resumedFrom: 0, cached: true };
    }
    signal?.throwIfAborted();
    if (this.#storeRoot !== undefined) await secureStoreRoot(this.#storeRoot);
    await secureStoreRoot(this.dir);
    await mkdir(join(this.dir, 'sha256'), { recursive: true });
    // Anything but a blob we wrote (a link, a folder) is not a cached blob: removed, never followed.
    if (cached) await rm(final, { force: true, recursive: cached.isDirectory() });
    const partial = this.partialPath(digest);

    const file = await openPartial(partial);
    let done: number;
    let resumedFrom: number;
    let hash = createHash('sha256');
    let written: BigIntStats;
    try {
      let offset = (await file.stat()).size;
      if (size !== undefined && offset > size) offset = await restart(file);
      if (offset > 0) await hashPrefix(file, offset, hash);

      let response: Response | undefined;
      if (!(size !== undefined && offset === size && offset > 0)) {
        response = await openBlob(offset, signal);
        if (offset > 0 && !isRangeAnswer(response, offset)) {
          // The server ignored the range (200: the whole blob follows) or refused it: start again from byte 0.
          if (response.status !== 200) {
            await response.body?.cancel().catch(() => {});
            response = await openBlob(0, signal);
          }
          offset = await restart(file);
          hash = createHash('sha256');
        }
      }
      resumedFrom = offset;
      done = offset;
      report(done);
      if (response?.body) {
        const idleMs = options.idleTimeoutMs ?? REGISTRY_LIMITS.idleTimeoutMs;
        const pace = { minBytesPerSecond: options.minBytesPerSecond ?? REGISTRY_LIMITS.minBytesPerSecond };
        for await (const chunk of idleChunks(response, idleMs, subject, signal, pace)) {
          signal?.throwIfAborted();
          hash.update(chunk);
          await file.write(chunk, 0, chunk.byteLength, done);
          done += chunk.byteLength;
          if (size !== undefined && done > size) break;
          report(done);
        }
      }
      written = await file.stat({ bigint: true });
    } finally {
      await file.close();
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest || (size !== undefined && done !== size)) {
      await rm(partial, { force: true });
      throw new DigestMismatchError(
        size !== undefined && done !== size ? `${subject} (${done} bytes, descriptor says ${size})` : subject,
        digest,
        actual,
      );
    }
    // rename replaces a link at `final` itself, never its target; the check after
    // it proves the name now holds the very file written above.
    await rename(partial, final);
    const renamed = await lstat(final, { bigint: true });
    if (!sameFile(renamed, written)) {
      await rm(final, { force: true, recursive: renamed.isDirectory() });
      throw new DigestMismatchError(
        `${subject} (its file was replaced before it was renamed)`,
        digest,
        'unknown',
      );
    }
    return { path: final, resumedFrom, cached: false };
  }
}

/** On POSIX an open that meets a link fails (ELOOP); Windows has no such flag, so the file's identity is compared. */
const NO_FOLLOW = fsConstants.O_NOFOLLOW ?? 0;
const RESUME_FLAGS = fsConstants.O_RDWR | NO_FOLLOW;
const CREATE_FLAGS = fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | NO_FOLLOW;

/**
 * Opens the partial download at `path`, never through a link: an existing
 * regular file with one name is resumed (opened with O_NOFOLLOW where there is
 * one, then its identity compared with what `lstat` saw, so a file swapped for
 * a link in between is caught before a byte is written); anything else there
 * (a symbolic link, a junction, a hard link to some other file, a folder) is
 * removed, itself and never its target, and a new file is created exclusively
 * (O_EXCL: creating fails rather than open whatever appeared meanwhile).
 */
async function openPartial(path: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    const before = await lstatIfExists(path, true);
    if (before?.isFile() && before.nlink === 1n) {
      const file = await open(path, RESUME_FLAGS).catch(ignoreLinkError);
      if (file) {
        if (sameFile(await file.stat({ bigint: true }), before)) return file;
        await file.close();
      }
    }
    const now = await lstatIfExists(path, true);
    if (now) await rm(path, { force: true, recursive: now.isDirectory() });
    try {
      return await open(path, CREATE_FLAGS, 0o600);
    } catch (err) {
      if (errorCode(err) !== 'EEXIST' || attempt > 0) throw err;
    }
  }
}

/** ELOOP (POSIX O_NOFOLLOW met a link) means "not our file": undefined. */
function ignoreLinkError(err: unknown): undefined {
  if (errorCode(err) === 'ELOOP') return undefined;
  throw err;
}

async function lstatIfExists(path: string): Promise<Stats | undefined>;
async function lstatIfExists(path: string, bigint: true): Promise<BigIntStats | undefined>;
async function lstatIfExists(path: string, bigint = false): Promise<Stats | BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint });
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.isFile() && b.isFile() && a.ino === b.ino && a.dev === b.dev && a.nlink === 1n;
}

/** Empties the partial file to download from byte 0; returns the new offset, 0. */
async function restart(file: FileHandle): Promise<number> {
  await file.truncate(0);
  return 0;
}

/** Feeds the first `length` bytes of `file` to `hash`, read through the handle (never by path). */
async function hashPrefix(file: FileHandle, length: number, hash: Hash): Promise<void> {
  const buffer = Buffer.alloc(Math.min(length, 1 << 20));
  for (let position = 0; position < length; ) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

function isRangeAnswer(response: Response, offset: number): boolean {
  if (response.status !== 206) return false;
  const range = response.headers.get('content-range');
  return range !== null && new RegExp(`^bytes ${offset}-\\d+/`).test(range);
}
