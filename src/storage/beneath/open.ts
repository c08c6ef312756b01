import { InvalidArgumentError } from '../../internal/errors.js';
import {
  FileAttribute,
  type FilesNativeApi,
  filesNative,
  isNameSurrogate,
  NtStatus,
  type OpenChildRequest,
  type OpenedEntry,
  Win32CallError,
  type Win32Handle,
} from '../../native/index.js';
import { SandboxPathLinkError, SandboxPathNotFoundError } from './errors.js';

/**
 * A name NTFS refuses, or Win32 would change: one of `< > : " / \ | ? *` (`:`
 * would also name a stream), a control character, or a trailing dot or space.
 */
export function isUnsafeName(name: string): boolean {
  return /[<>:"/\\|?*]|[. ]$/.test(name) || [...name].some((c) => c.charCodeAt(0) < 0x20);
}

/**
 * A mounted writable layer reached without ever following a link: every name is
 * opened relative to the handle of its parent folder, the link itself is opened
 * (never its target) and refused. hcsshim's internal/safefile does the same.
 */
export class VolumeBeneath {
  readonly api: FilesNativeApi;
  readonly root: Win32Handle;

  private constructor(api: FilesNativeApi, root: Win32Handle) {
    this.api = api;
    this.root = root;
  }

  /** Opens the volume (ours, so followed as given), runs `use`, and closes it. */
  static async with<T>(volume: string, use: (beneath: VolumeBeneath) => Promise<T>): Promise<T> {
    const api = filesNative();
    const beneath = new VolumeBeneath(api, api.openRoot(volume));
    try {
      return await use(beneath);
    } finally {
      api.close(beneath.root);
    }
  }

  /**
   * Opens `names` (the path inside, split) down to its last name, creating
   * missing folders on the way when `createFolders`. The caller closes the
   * returned handle. `shown` names a path in errors: `C:\a\b`.
   */
  open(
    names: readonly string[],
    last: Omit<OpenChildRequest, 'name' | 'links'>,
    createFolders: boolean,
  ): OpenedEntry {
    let parent = this.root;
    try {
      for (let i = 0; i < names.length; i++) {
        const isLast = i === names.length - 1;
        const request = isLast
          ? { ...last, name: names[i] as string }
          : {
              name: names[i] as string,
              kind: 'directory' as const,
              access: 'read' as const,
              create: createFolders,
            };
        const entry = this.openChild(parent, request, shown(names.slice(0, i + 1)));
        if (parent !== this.root) this.api.close(parent);
        parent = entry.handle;
        if (isLast) return entry;
      }
    } catch (error) {
      if (parent !== this.root) this.api.close(parent);
      throw error;
    }
    // No names: the volume's root folder itself, which is no file.
    throw new InvalidArgumentError('path', 'a file inside C:\\, not C:\\ itself', 'C:\\');
  }

  /** Opens one name inside `parent`, refusing it if it is a link. */
  openChild(parent: Win32Handle, request: Omit<OpenChildRequest, 'links'>, shownPath: string): OpenedEntry {
    const first = this.api.openChild(parent, { ...request, links: 'open-link' });
    if (first.status !== 0 || !('entry' in first)) throw failure(first, shownPath);
    const entry = first.entry;
    if ((entry.attributes & FileAttribute.ReparsePoint) === 0) return entry;
    this.api.close(entry.handle);
    if (isNameSurrogate(entry.reparseTag)) throw new SandboxPathLinkError(shownPath);
    // Some other reparse point (a placeholder a file system filter serves, such
    // as a deduplicated or cloud file): open it through its filter, with
    // OBJ_DONT_REPARSE so the kernel still fails rather than follow a link
    // swapped in meanwhile.
    const again = this.api.openChild(parent, { ...request, links: 'refuse' });
    if (again.status !== 0 || !('entry' in again)) throw failure(again, shownPath);
    return again.entry;
  }
}

function failure(result: { status: number; win32Error?: number }, shownPath: string): Error {
  switch (result.status) {
    case NtStatus.ReparsePointEncountered:
      return new SandboxPathLinkError(shownPath);
    case NtStatus.ObjectNameNotFound:
    case NtStatus.ObjectPathNotFound:
      return new SandboxPathNotFoundError(shownPath);
    default:
      return new Win32CallError('NtCreateFile', result.win32Error ?? 0, shownPath);
  }
}

/** `C:\a\b` from `['a', 'b']`. */
export function shown(names: readonly string[]): string {
  return `C:\\${names.join('\\')}`;
}

/**
 * The names of a checked sandbox path (`C:\a\b` -> `['a', 'b']`), each a name
 * NTFS takes as is: NtCreateFile does no Win32 clean-up (a trailing dot or
 * space stays part of the name), and `:` would open a stream.
 */
export function sandboxNames(field: string, checkedPath: string): string[] {
  const names = checkedPath.slice(3).split('\\').filter(Boolean);
  for (const name of names) {
    if (isUnsafeName(name) || name.length > 255) {
      throw new InvalidArgumentError(
        field,
        'a path whose names have at most 255 characters, none of < > : " / | ? * or control characters, and do not end in a dot or space',
        checkedPath,
      );
    }
  }
  return names;
}
