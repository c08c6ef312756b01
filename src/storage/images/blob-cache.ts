/**
 * A folder of verified blobs, `<dir>/sha256/<hex>`. Downloads stream into
 * `<hex>.partial` while hashing; a blob is renamed to its final name only once
 * its sha256 matches, so a present blob is a verified blob. An interrupted
 * download leaves the `.partial` file; the next download of the same digest
 * resumes it with a `Range` request (and restarts cleanly when the server
 * ignores the range). A digest mismatch removes the partial file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exists } from '../../internal/fs.js';
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

/** Where `pullImage` keeps its blob cache unless told otherwise (`gc` sweeps its partial files). */
export function defaultBlobCacheDir(): string {
  return join(tmpdir(), 'hcs-sandbox-blobs');
}

/** The suffix of an interrupted download, `<dir>/sha256/<hex>.partial`. */
export const PARTIAL_SUFFIX = '.partial';

const inFlight = new Map<string, Promise<BlobFetchResult>>();

export class BlobCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
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
    if (await exists(final)) {
      const bytes = (await stat(final)).size;
      report(bytes);
      return { path: final, resumedFrom: 0, cached: true };
    }
    signal?.throwIfAborted();
    await mkdir(join(this.dir, 'sha256'), { recursive: true });
    const partial = this.partialPath(digest);

    let offset = (await exists(partial)) ? (await stat(partial)).size : 0;
    if (size !== undefined && offset > size) offset = 0;
    let hash = createHash('sha256');
    if (offset > 0) {
      for await (const chunk of createReadStream(partial, { end: offset - 1 })) hash.update(chunk as Buffer);
    }

    let response: Response | undefined;
    if (!(size !== undefined && offset === size && offset > 0)) {
      response = await openBlob(offset, signal);
      if (offset > 0 && !isRangeAnswer(response, offset)) {
        // The server ignored the range (200: the whole blob follows) or refused it: start again from byte 0.
        if (response.status !== 200) {
          await response.body?.cancel().catch(() => {});
          response = await openBlob(0, signal);
        }
        offset = 0;
        hash = createHash('sha256');
      }
    }
    const resumedFrom = offset;

    const file = await open(partial, offset > 0 ? 'a' : 'w');
    let done = offset;
    try {
      report(done);
      if (response?.body) {
        const idleMs = options.idleTimeoutMs ?? REGISTRY_LIMITS.idleTimeoutMs;
        const pace = { minBytesPerSecond: options.minBytesPerSecond ?? REGISTRY_LIMITS.minBytesPerSecond };
        for await (const chunk of idleChunks(response, idleMs, subject, signal, pace)) {
          signal?.throwIfAborted();
          hash.update(chunk);
          await file.write(chunk);
          done += chunk.byteLength;
          if (size !== undefined && done > size) break;
          report(done);
        }
      }
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
    await rename(partial, final);
    return { path: final, resumedFrom, cached: false };
  }
}

function isRangeAnswer(response: Response, offset: number): boolean {
  if (response.status !== 206) return false;
  const range = response.headers.get('content-range');
  return range !== null && new RegExp(`^bytes ${offset}-\\d+/`).test(range);
}
