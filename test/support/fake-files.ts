import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  type DirectoryEntry,
  FileAttribute,
  type FilesNativeApi,
  NtStatus,
  type OpenChildRequest,
  type OpenChildResult,
  type Win32Handle,
} from '../../src/native/index.js';

/** IO_REPARSE_TAG_SYMLINK (winnt.h): a name surrogate. */
export const SYMLINK_TAG = 0xa000000c;
/** IO_REPARSE_TAG_DEDUP (winnt.h): a placeholder a filter serves, not a name surrogate. */
export const DEDUP_TAG = 0x80000013;

/**
 * The no-follow file bindings over a Linux folder, for the unit tier: a Linux
 * symbolic link plays a Windows symbolic link (a reparse point with a
 * name-surrogate tag), as NtCreateFile with FILE_OPEN_REPARSE_POINT reports it.
 * Names in `placeholders` play filter-served reparse points (dedup). Handles
 * are paths behind numbers; `open` counts the handles not yet closed.
 */
export class FakeFiles implements FilesNativeApi {
  readonly #paths = new Map<bigint, string>();
  #next = 0x100n;
  readonly placeholders = new Set<string>();
  readonly calls: string[] = [];

  get open(): number {
    return this.#paths.size;
  }

  #handle(path: string): Win32Handle {
    const handle = this.#next++ as Win32Handle;
    this.#paths.set(handle, path);
    return handle;
  }

  #path(handle: Win32Handle): string {
    const path = this.#paths.get(handle);
    if (path === undefined) throw new Error(`fake files: handle ${handle} is not open`);
    return path;
  }

  openRoot(path: string): Win32Handle {
    return this.#handle(path);
  }

  openChild(parent: Win32Handle, request: OpenChildRequest): OpenChildResult {
    this.calls.push(`${request.links} ${request.name}`);
    const path = join(this.#path(parent), request.name);
    let stat = lstatOrUndefined(path);
    if (!stat) {
      if (!request.create) return { status: NtStatus.ObjectNameNotFound, win32Error: 2 };
      if (request.kind === 'directory') mkdirSync(path);
      else closeSync(openSync(path, constants.O_CREAT | constants.O_WRONLY | constants.O_NOFOLLOW));
      stat = lstatSync(path);
    }
    const link = stat.isSymbolicLink();
    if (link && request.links === 'refuse')
      return { status: NtStatus.ReparsePointEncountered, win32Error: 4390 };
    if (!link && request.kind === 'directory' && !stat.isDirectory()) {
      return { status: NtStatus.NotADirectory, win32Error: 267 };
    }
    if (!link && request.kind === 'file' && stat.isDirectory()) {
      return { status: NtStatus.FileIsADirectory, win32Error: 5 };
    }
    const placeholder = this.placeholders.has(request.name) && request.links === 'open-link';
    const reparseTag = link ? SYMLINK_TAG : placeholder ? DEDUP_TAG : 0;
    const attributes =
      (stat.isDirectory() ? FileAttribute.Directory : 0x20) | (reparseTag ? FileAttribute.ReparsePoint : 0);
    return { status: 0, entry: { handle: this.#handle(path), attributes, reparseTag } };
  }

  list(directory: Win32Handle): DirectoryEntry[] {
    const path = this.#path(directory);
    return readdirSync(path).map((name) => {
      const stat = lstatSync(join(path, name));
      // A listing tags a reparse point in FILE_FULL_DIR_INFORMATION.EaSize.
      return {
        name,
        attributes:
          (stat.isDirectory() ? FileAttribute.Directory : 0x20) |
          (stat.isSymbolicLink() ? FileAttribute.ReparsePoint : 0),
        reparseTag: stat.isSymbolicLink() ? SYMLINK_TAG : 0,
        size: stat.isFile() ? stat.size : 0,
        modified: stat.mtime,
      };
    });
  }

  remove(parent: Win32Handle, name: string): number {
    this.calls.push(`remove ${name}`);
    const path = join(this.#path(parent), name);
    try {
      // As the link itself (FILE_OPEN_REPARSE_POINT): a Linux symlink is unlinked, never followed.
      if (lstatSync(path).isDirectory()) rmdirSync(path);
      else unlinkSync(path);
      return 0;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return NtStatus.ObjectNameNotFound;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return NtStatus.DirectoryNotEmpty;
      return NtStatus.CannotDelete;
    }
  }

  readable(file: Win32Handle): Readable {
    const fd = openSync(this.#take(file), constants.O_RDONLY | constants.O_NOFOLLOW);
    return createReadStream('', { fd });
  }

  writable(file: Win32Handle): Writable {
    const fd = openSync(this.#take(file), constants.O_WRONLY | constants.O_NOFOLLOW);
    ftruncateSync(fd, 0);
    return createWriteStream('', { fd });
  }

  #take(handle: Win32Handle): string {
    const path = this.#path(handle);
    this.#paths.delete(handle);
    return path;
  }

  close(handle: Win32Handle): void {
    this.#path(handle);
    this.#paths.delete(handle);
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * A Linux folder standing in for a sandbox's mounted writable layer (`volume`,
 * holding `C:\work`), beside `outside`, a host folder with a secret that links
 * planted inside point at and that the files API must never reach.
 */
export function linkTestFolders(prefix: string): { dir: string; volume: string; outside: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const volume = join(dir, 'volume');
  const outside = join(dir, 'outside');
  mkdirSync(join(volume, 'work'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'host secret');
  return { dir, volume, outside };
}
