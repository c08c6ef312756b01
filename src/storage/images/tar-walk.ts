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
import { createGunzip } from 'node:zlib';
import { type Entry, extract as tarExtract } from 'tar-stream';

export type TarEntry = Entry;

export interface TarWalkOptions {
  gzip: boolean;
  /** Progress over the bytes read from the file so far, of the file's size. */
  onRead?: (done: number, total: number) => void;
  /** Sees every uncompressed tar byte, in order (hashing, counting). */
  onTarBytes?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/**
 * Calls `onEntry` for each entry of the tar at `tarPath`, one at a time.
 * `onEntry` may read the entry's content (`writeEntryFile`); whatever it
 * leaves unread is skipped. An error from `onEntry` stops the walk and is
 * rethrown once the feed has stopped; otherwise a feed error (bad gzip,
 * truncated tar, abort) is thrown after the last entry.
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
  const extract = tarExtract();
  let feedError: unknown;
  const streams = [...stages, extract] as unknown as NodeJS.ReadWriteStream[];
  const feed = pipeline(streams, signal ? { signal } : {}).catch((err: unknown) => {
    feedError = err;
  });
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      await onEntry(entry);
      entry.resume();
    }
  } catch (err) {
    extract.destroy();
    await feed;
    throw err;
  }
  await feed;
  if (feedError) throw feedError;
}

/** Writes an entry's content to `target` (its folder created, an older file there replaced). */
export async function writeEntryFile(entry: TarEntry, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await rm(target, { force: true });
  await pipeline(entry, createWriteStream(target, { flags: 'wx' }));
}

function tap(see: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      see(chunk);
      cb(null, chunk);
    },
  });
}
