import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { builtin } from './lazy-dependency.js';

/**
 * File primitives for the state store: atomic replace and reads that retry
 * through the moments Windows refuses a file that is being replaced.
 */

const isWindows = process.platform === 'win32';

/** Error codes Windows gives for a file that another process is replacing or deleting. */
const TRANSIENT = new Set(['EPERM', 'EACCES', 'EBUSY']);

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Retries `fn` while it fails with a transient sharing error (Windows), up to ~1 s. */
async function retryTransient<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = errorCode(err);
      if (!code || !TRANSIENT.has(code) || attempt >= 10) throw err;
      await sleep(5 * 2 ** Math.min(attempt, 6));
    }
  }
}

/** A name for a temporary file beside `path`, unique to this process and call. */
export function tempPathFor(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${builtin('node:crypto').randomBytes(4).toString('hex')}.tmp`,
  );
}

/**
 * The pid of the writer of a temporary file named by {@link tempPathFor}
 * (`.<name>.<pid>.<hex>.tmp`), or undefined for any other name.
 */
export function tempFileWriterPid(fileName: string): number | undefined {
  const match = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

/**
 * Writes `data` to `path` so that readers see the old content or the new one,
 * never a mix: the bytes go to a temporary file in the same folder, are
 * flushed to disk, and the temporary file is renamed over `path`. The folder
 * is flushed too (POSIX), so the rename survives a power cut.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await retryTransient(() => rename(temp, path));
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await syncFolder(dirname(path));
}

/** Flushes a folder's entries (a no-op on Windows, where folders cannot be opened for it). */
export async function syncFolder(folder: string): Promise<void> {
  if (isWindows) return;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on folders; the data itself is synced.
  } finally {
    await handle?.close();
  }
}

/** Reads a UTF-8 file, or `undefined` when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await retryTransient(() => readFile(path, 'utf8'));
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Deletes a file; `false` when it was already gone. */
export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await retryTransient(() => unlink(path));
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}
