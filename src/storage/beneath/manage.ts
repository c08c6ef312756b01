import { InvalidArgumentError } from '../../internal/errors.js';
import { FileAttribute, isNameSurrogate, NtStatus, type Win32Handle } from '../../native/index.js';
import { SandboxPathLinkError, SandboxPathNotFoundError, SandboxPathNotRemovableError } from './errors.js';
import { shown, VolumeBeneath } from './open.js';

/**
 * Listing and removing inside a mounted writable layer, through
 * `VolumeBeneath` like the copies: a link inside is reported as a link and
 * removed as itself, never entered.
 */

export interface VolumeEntry {
  name: string;
  type: 'file' | 'directory' | 'link' | 'other';
  size: number;
  modified: Date | undefined;
}

/** A reparse point that points at another name, or that the listing cannot tag. */
function isLink(attributes: number, reparseTag: number): boolean {
  return (attributes & FileAttribute.ReparsePoint) !== 0 && (reparseTag === 0 || isNameSurrogate(reparseTag));
}

/** The entries of the folder at `names` (the volume's root when empty). */
export function listInside(volume: string, names: readonly string[]): Promise<VolumeEntry[]> {
  return VolumeBeneath.with(volume, async (beneath) => {
    const folder =
      names.length === 0
        ? undefined
        : beneath.open(names, { kind: 'directory', access: 'read', create: false }, false);
    try {
      return beneath.api.list(folder?.handle ?? beneath.root).map((entry) => {
        const link = isLink(entry.attributes, entry.reparseTag);
        const directory = (entry.attributes & FileAttribute.Directory) !== 0;
        return {
          name: entry.name,
          type: link ? 'link' : directory ? 'directory' : 'file',
          size: link || directory ? 0 : entry.size,
          modified: entry.modified,
        };
      });
    } finally {
      if (folder) beneath.api.close(folder.handle);
    }
  });
}

/**
 * Removes the file, folder or link at `names`. A folder with contents needs
 * `recursive`; its links are removed as links. The folders on the way are
 * opened without following links, so nothing outside the volume is touched.
 */
export function removeInside(
  volume: string,
  names: readonly string[],
  options: { recursive?: boolean } = {},
): Promise<void> {
  if (names.length === 0) {
    throw new InvalidArgumentError('path', 'a file or folder inside C:\\, not C:\\ itself', 'C:\\');
  }
  return VolumeBeneath.with(volume, async (beneath) => {
    const parentNames = names.slice(0, -1);
    const parent =
      parentNames.length === 0
        ? undefined
        : beneath.open(parentNames, { kind: 'directory', access: 'read', create: false }, false);
    try {
      removeChild(beneath, parent?.handle ?? beneath.root, names, options.recursive === true);
    } finally {
      if (parent) beneath.api.close(parent.handle);
    }
  });
}

function removeChild(
  beneath: VolumeBeneath,
  parent: Win32Handle,
  names: readonly string[],
  recursive: boolean,
): void {
  const name = names[names.length - 1] as string;
  const shownPath = shown(names);
  const status = beneath.api.remove(parent, name);
  if (status === 0) return;
  if (status === NtStatus.ObjectNameNotFound || status === NtStatus.ObjectPathNotFound) {
    throw new SandboxPathNotFoundError(shownPath);
  }
  // CannotDelete (read-only), a sharing violation or access denied: held or protected inside.
  if (status !== NtStatus.DirectoryNotEmpty) throw new SandboxPathNotRemovableError(shownPath, 'read-only');
  if (!recursive) throw new SandboxPathNotRemovableError(shownPath, 'not-empty');
  // Only a real folder has contents: a link was removed as itself above.
  const folder = beneath.openChild(
    parent,
    { name, kind: 'directory', access: 'read', create: false },
    shownPath,
  );
  try {
    for (const entry of beneath.api.list(folder.handle)) {
      if (isLink(entry.attributes, entry.reparseTag)) {
        const linkStatus = beneath.api.remove(folder.handle, entry.name);
        if (linkStatus !== 0) throw new SandboxPathLinkError(shown([...names, entry.name]));
        continue;
      }
      removeChild(beneath, folder.handle, [...names, entry.name], true);
    }
  } finally {
    beneath.api.close(folder.handle);
  }
  const again = beneath.api.remove(parent, name);
  if (again !== 0) throw new SandboxPathNotRemovableError(shownPath, 'not-empty');
}
