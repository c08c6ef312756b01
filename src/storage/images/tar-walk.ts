/**
 * The one loop that reads a tar (plain or gzip) entry by entry, for both the
 * outer image archive (`loadImage`) and each Windows layer (`extractLayerTar`).
 * It owns the stream plumbing both need the same way: progress over the bytes
 * read from disk, an optional tap on the uncompressed bytes (the diff id hash),
 * abort, and not losing the first error whichever side (the feed or the
 * consumer) fails first.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import type { Entry } from 'tar-stream';
import { HcsSandboxError } from '../../internal/errors.js';
import { dependency } from '../../internal/lazy-dependency.js';

export type TarEntry = Entry;

export interface TarWalkOptions {
  gzip: boolean;
  /** Progress over the bytes read from the file so far, of the file's size. */
  onRead?: (done: number, total: number) => void;
  /** Sees every uncompressed tar byte, in order (hashing, counting); may throw to stop the walk. */
  onTarBytes?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /**
   * Builds the caller's typed error (`ImageFormatError`, `NotAWindowsLayerError`)
   * for a truncated or corrupt tar or gzip, or an entry the file system refuses
   * (name too long, a missing link target); `cause` is the raw error.
   */
  formatError: (detail: string, cause: unknown) => Error;
}

/** File-system failures that come from what an entry names, not from the host. */
/** How long a failed walk waits for the consumer of the entry it was on to settle. */
const HANDLER_SETTLE_MS = 2_000;

const ENTRY_FS_CODES = new Set(['ENAMETOOLONG', 'ENOENT', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ELOOP']);

/** An entry whose content the walk had already given up on (the feed failed): the feed's error says why. */
class EntryCutShortError extends Error {}

/**
 * Calls `onEntry` for each entry of the tar at `tarPath`, one at a time.
 * `onEntry` may read the entry's content (`writeEntryFile`); whatever it
 * leaves unread is skipped. An error from `onEntry` stops the walk and is
 * rethrown once the feed has stopped; otherwise a feed error (bad gzip,
 * truncated tar, abort) is thrown after the last entry. Tar, gzip and
 * entry file-system failures leave as `options.formatError`'s typed error;
 * an abort and host read failures as they are. The walk always settles.
 */
export async function walkTar(
  tarPath: string,
  options: TarWalkOptions,
  onEntry: (entry: TarEntry) => Promise<void> | void,
): Promise<void> {
  const { signal, onRead, onTarBytes } = options;
  const total = (await stat(tarPath)).size;
  let read = 0;
  const stages: NodeJS.ReadWriteStream[] = [
    createReadStream(tarPath) as unknown as NodeJS.ReadWriteStream,
    tap((chunk) => {
      read += chunk.length;
      onRead?.(read, total);
    }),
  ];
  if (options.gzip) stages.push(createGunzip());
  if (onTarBytes) stages.push(tap(onTarBytes));
  const extract = dependency('tar-stream').extract();
  let feedError: unknown;
  // A consumer stuck on an entry the failed feed will never finish must not
  // hold the walk forever: the feed's failure ends the wait.
  let feedFailed: (err: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    feedFailed = reject;
  });
  failure.catch(() => {});
  const streams = [...stages, extract] as unknown as NodeJS.ReadWriteStream[];
  const feed = pipeline(streams, signal ? { signal } : {}).catch((err: unknown) => {
    feedError = err;
    feedFailed(err);
  });
  let current: string | undefined;
  let handling: Promise<void> | undefined;
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      current = entry.header.name;
      checkEntrySize(entry, options);
      handling = Promise.resolve(onEntry(entry));
      await Promise.race([handling, failure]);
      handling = undefined;
      current = undefined;
      entry.resume();
    }
  } catch (err) {
    extract.destroy();
    await feed;
    // The consumer may still be writing the entry the feed cut short: let it finish (its
    // source is destroyed, so it fails soon), so that the caller's clean-up after this
    // rejection never races a write into the folder it removes. Bounded, for a consumer
    // that would never finish.
    if (handling) await Promise.race([handling.catch(() => {}), sleep(HANDLER_SETTLE_MS)]);
    const fromFeed = current === undefined || err === feedError || err instanceof EntryCutShortError;
    if (fromFeed) throw typedFeedError(feedError ?? err, options);
    throw typedEntryError(err, current, options);
  }
  await feed;
  if (feedError !== undefined) throw typedFeedError(feedError, options);
}

/**
 * A size tar can encode but no file has: GNU base-256 sizes reach 2^95 and
 * negative numbers, which arrive as imprecise or negative JavaScript numbers
 * (a backup stream header then fails to encode the size as a raw RangeError).
 */
function checkEntrySize(entry: TarEntry, options: TarWalkOptions): void {
  const size = entry.header.size ?? 0;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw options.formatError(
      `entry ${JSON.stringify(entry.header.name)}: size ${size} is not a whole number of bytes below 2^53`,
      undefined,
    );
  }
}

/** A tar or gzip failure as the caller's typed error; an abort or a host read failure as it is. */
function typedFeedError(err: unknown, options: TarWalkOptions): unknown {
  if (options.signal?.aborted || err instanceof HcsSandboxError || !(err instanceof Error)) return err;
  const { code, syscall } = err as NodeJS.ErrnoException;
  if (syscall !== undefined) return err;
  const what = typeof code === 'string' && code.startsWith('Z_') ? 'gzip' : 'tar';
  return options.formatError(`truncated or corrupt ${what} (${err.message})`, err);
}

/** An entry the file system refuses, named, as the caller's typed error; anything else as it is. */
export function typedEntryError(err: unknown, entry: string | undefined, options: TarWalkOptions): unknown {
  if (options.signal?.aborted || err instanceof HcsSandboxError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !ENTRY_FS_CODES.has(code)) return err;
  const where = entry === undefined ? '' : `entry ${JSON.stringify(entry)}: `;
  return options.formatError(`${where}the file system refused it (${code})`, err);
}

/**
 * Copies an entry's content into `out`. An entry the walk has already
 * destroyed (its tar cut short) would never end a `pipeline`: refused here.
 */
export async function pipeEntry(entry: NodeJS.ReadableStream, out: NodeJS.WritableStream): Promise<void> {
  if ((entry as { destroyed?: boolean }).destroyed) {
    (out as unknown as { destroy?: () => void }).destroy?.();
    throw new EntryCutShortError('tar entry cut short');
  }
  await pipeline(entry, out);
}

/** Writes an entry's content to `target` (its folder created, an older file there replaced). */
export async function writeEntryFile(entry: TarEntry, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await rm(target, { force: true });
  await pipeEntry(entry, createWriteStream(target, { flags: 'wx' }));
}

function tap(see: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      // A tap may refuse the bytes (a size cap): its error fails the feed.
      try {
        see(chunk);
      } catch (err) {
        cb(err as Error);
        return;
      }
      cb(null, chunk);
    },
  });
}
