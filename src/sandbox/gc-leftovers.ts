/**
 * What killed or crashed processes leave on disk besides sandboxes, for `gc`:
 * temporary files of atomic writes (sandbox records, the image index), partial
 * downloads in the blob cache, and work folders of pulls, loads and commits
 * (`<root>\tmp\...`). A leftover that names its process (a pid in its name) is
 * swept once that process is gone; one that does not, once nothing touched it
 * for a grace period, so a download or import in progress is never swept.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode, tempFileWriterPid } from '../internal/atomic-file.js';
import { processAlive } from '../internal/file-lock.js';
import { destroyLayer, PARTIAL_SUFFIX, tempDirOwnerPid } from '../storage/index.js';
import type { StateStore } from './state-store.js';

/** Default grace period: a leftover without a pid is swept once untouched this long. */
export const LEFTOVER_GRACE_MS = 60 * 60 * 1000;

export interface Leftover {
  kind: 'temporary-file' | 'partial-download' | 'temporary-folder';
  target: string;
  reason: string;
  remove: () => Promise<void>;
}

export interface LeftoverOptions {
  /** The store root (`<root>\sandboxes`, `<root>\images`, `<root>\tmp`). */
  root: string;
  store: StateStore;
  /** The blob cache whose `sha256\*.partial` files are swept. */
  cacheDir: string;
  graceMs: number;
  /** The clock (tests). */
  now?: number;
}

/** Lists the leftovers; removes nothing. */
export async function findLeftovers(options: LeftoverOptions): Promise<Leftover[]> {
  const now = options.now ?? Date.now();
  const stale = (mtimeMs: number) => now - mtimeMs >= options.graceMs;
  const age = (mtimeMs: number) => `untouched for ${Math.floor((now - mtimeMs) / 60_000)} min`;
  const found: Leftover[] = [];
  const removeFile = (path: string) => () => rm(path, { force: true });

  // Temporary files of atomic writes whose writer died before its rename.
  const deadWritersIn = async (dir: string) =>
    (await entries(dir))
      .filter((e) => e.isFile() && isDeadPid(tempFileWriterPid(e.name)))
      .map((e) => join(dir, e.name));
  const tempFiles = [
    ...(await options.store.temporaryFiles()),
    ...(await deadWritersIn(join(options.root, 'images'))),
    // The store id (store-id.ts) is written in the root itself.
    ...(await deadWritersIn(options.root)),
  ];
  for (const path of tempFiles) {
    found.push({
      kind: 'temporary-file',
      target: path,
      reason: 'written by a process that is gone',
      remove: removeFile(path),
    });
  }

  // Interrupted downloads: a download in progress writes its partial file all the time.
  const blobs = join(options.cacheDir, 'sha256');
  for (const entry of await entries(blobs)) {
    if (!entry.isFile() || !entry.name.endsWith(PARTIAL_SUFFIX)) continue;
    const path = join(blobs, entry.name);
    const info = await lstat(path).catch(() => undefined);
    if (!info || !stale(info.mtimeMs)) continue;
    found.push({
      kind: 'partial-download',
      target: path,
      reason: `interrupted download, ${age(info.mtimeMs)}`,
      remove: removeFile(path),
    });
  }

  // Work folders of pulls, loads and commits that were killed.
  const tmp = join(options.root, 'tmp');
  for (const entry of await entries(tmp)) {
    const path = join(tmp, entry.name);
    const pid = tempDirOwnerPid(entry.name);
    let reason: string;
    if (pid !== undefined) {
      if (processAlive(pid)) continue;
      reason = `work folder of a process that is gone (pid ${pid})`;
    } else {
      const info = await lstat(path).catch(() => undefined);
      if (!info || !stale(info.mtimeMs)) continue;
      reason = `work folder, ${age(info.mtimeMs)}`;
    }
    // A link is unlinked, never followed; a real folder is emptied layer-aware.
    const folder = entry.isDirectory() && !entry.isSymbolicLink();
    found.push({
      kind: 'temporary-folder',
      target: path,
      reason,
      remove: folder ? () => removeWorkFolder(path) : removeFile(path),
    });
  }
  return found;
}

function isDeadPid(pid: number | undefined): boolean {
  return pid !== undefined && !processAlive(pid);
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * Empties and removes a work folder: the folders in it may be (half-)imported
 * layers, which carry ACLs and reparse points only HcsDestroyLayer removes; plain
 * files and links go with fs (a link is removed, not followed).
 */
async function removeWorkFolder(path: string): Promise<void> {
  for (const entry of await entries(path)) {
    const child = join(path, entry.name);
    if (entry.isDirectory() && !entry.isSymbolicLink()) await destroyLayer(child);
    else await rm(child, { force: true });
  }
  await rmdir(path).catch((err: unknown) => {
    if (errorCode(err) !== 'ENOENT') throw err;
  });
}
