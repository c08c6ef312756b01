import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConflictError, InvalidArgumentError } from '../../internal/errors.js';
import { FileAttribute, isNameSurrogate, type Win32Handle } from '../../native/index.js';
import { SandboxPathLinkError } from './errors.js';
import { isUnsafeName, sandboxNames, shown, VolumeBeneath } from './open.js';

/**
 * The files API's moves of bytes between the host and a mounted writable layer,
 * all through `VolumeBeneath`: no link inside the sandbox is ever followed, and
 * none is ever recreated on the host. Host paths are the caller's own and are
 * used as given (their links followed, like any program would).
 */

/** Win32 device names: as a host file name they open the device, whatever the extension. */
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;

/** Reads a whole file from inside. */
export function readInside(volume: string, names: readonly string[]): Promise<Buffer> {
  return VolumeBeneath.with(volume, async (beneath) => {
    const file = beneath.open(names, { kind: 'file', access: 'read', create: false }, false);
    const chunks: Buffer[] = [];
    for await (const chunk of beneath.api.readable(file.handle)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  });
}

/** Writes (creates or replaces) a file inside, creating its folders. */
export function writeInside(
  volume: string,
  names: readonly string[],
  data: string | Uint8Array,
): Promise<void> {
  return VolumeBeneath.with(volume, async (beneath) => {
    const file = beneath.open(names, { kind: 'file', access: 'write', create: true }, true);
    await pipeline(Readable.from([Buffer.from(data)]), beneath.api.writable(file.handle));
  });
}

/** Copies a host file or folder tree to `names` inside. */
export function copyIntoVolume(hostPath: string, volume: string, names: readonly string[]): Promise<void> {
  return VolumeBeneath.with(volume, async (beneath) => {
    const source = await stat(hostPath);
    if (!source.isDirectory()) {
      const file = beneath.open(names, { kind: 'file', access: 'write', create: true }, true);
      await pipeline(createReadStream(hostPath), beneath.api.writable(file.handle));
      return;
    }
    const ancestors = new Set([`${source.dev}:${source.ino}`]);
    if (names.length === 0) return copyFolderIn(beneath, hostPath, beneath.root, names, ancestors);
    const folder = beneath.open(names, { kind: 'directory', access: 'read', create: true }, true);
    try {
      await copyFolderIn(beneath, hostPath, folder.handle, names, ancestors);
    } finally {
      beneath.api.close(folder.handle);
    }
  });
}

async function copyFolderIn(
  beneath: VolumeBeneath,
  hostFolder: string,
  folder: Win32Handle,
  names: readonly string[],
  ancestors: ReadonlySet<string>,
): Promise<void> {
  for (const name of await readdir(hostFolder)) {
    const hostPath = join(hostFolder, name);
    const childNames = [...names, ...sandboxNames('hostPath', `C:\\${name}`)];
    const source = await stat(hostPath);
    if (source.isDirectory()) {
      const key = `${source.dev}:${source.ino}`;
      if (ancestors.has(key)) {
        throw new InvalidArgumentError('hostPath', 'a folder tree without a symbolic-link cycle', hostPath);
      }
      const child = beneath.openChild(
        folder,
        { name, kind: 'directory', access: 'read', create: true },
        shown(childNames),
      );
      try {
        await copyFolderIn(beneath, hostPath, child.handle, childNames, new Set([...ancestors, key]));
      } finally {
        beneath.api.close(child.handle);
      }
    } else {
      const child = beneath.openChild(
        folder,
        { name, kind: 'file', access: 'write', create: true },
        shown(childNames),
      );
      await pipeline(createReadStream(hostPath), beneath.api.writable(child.handle));
    }
  }
}

/** Copies a file or folder tree at `names` inside to a host path. */
export function copyOutOfVolume(volume: string, names: readonly string[], hostPath: string): Promise<void> {
  return VolumeBeneath.with(volume, async (beneath) => {
    await mkdir(dirname(hostPath), { recursive: true });
    if (names.length === 0) {
      await mkdir(hostPath, { recursive: true });
      return copyFolderOut(beneath, beneath.root, names, hostPath);
    }
    const source = beneath.open(names, { kind: 'any', access: 'read', create: false }, false);
    if ((source.attributes & FileAttribute.Directory) === 0) {
      await pipeline(beneath.api.readable(source.handle), createWriteStream(hostPath));
      return;
    }
    try {
      await mkdir(hostPath, { recursive: true });
      await copyFolderOut(beneath, source.handle, names, hostPath);
    } finally {
      beneath.api.close(source.handle);
    }
  });
}

async function copyFolderOut(
  beneath: VolumeBeneath,
  folder: Win32Handle,
  names: readonly string[],
  hostFolder: string,
): Promise<void> {
  for (const entry of beneath.api.list(folder)) {
    const childNames = [...names, entry.name];
    const shownPath = shown(childNames);
    // The listing's word is enough to refuse: a reparse point whose tag is a
    // name surrogate, or that the listing cannot tag, is taken for a link. The
    // open below checks again on the handle, for a link swapped in meanwhile.
    if (
      entry.attributes & FileAttribute.ReparsePoint &&
      (entry.reparseTag === 0 || isNameSurrogate(entry.reparseTag))
    ) {
      throw new SandboxPathLinkError(shownPath);
    }
    checkHostName(entry.name, shownPath);
    const hostPath = join(hostFolder, entry.name);
    const directory = (entry.attributes & FileAttribute.Directory) !== 0;
    const child = beneath.openChild(
      folder,
      { name: entry.name, kind: directory ? 'directory' : 'file', access: 'read', create: false },
      shownPath,
    );
    if (!directory) {
      await pipeline(beneath.api.readable(child.handle), createWriteStream(hostPath));
      continue;
    }
    try {
      await mkdir(hostPath, { recursive: true });
      await copyFolderOut(beneath, child.handle, childNames, hostPath);
    } finally {
      beneath.api.close(child.handle);
    }
  }
}

/**
 * A name made inside the sandbox, about to become a host file name: Win32
 * would open a device for `NUL` or `COM1.txt`, and drop a trailing dot or space
 * (two names landing on one file).
 */
export function checkHostName(name: string, shownPath: string): void {
  if (DEVICE_NAME.test(name) || isUnsafeName(name) || name === '' || name === '.' || name === '..') {
    throw new ConflictError(
      'PATH_NAME_UNSAFE',
      `${shownPath} inside the sandbox has a name that is not safe as a host file name ` +
        '(a device name such as NUL or COM1, a trailing dot or space, or a character Windows refuses); ' +
        'rename it inside the sandbox, or copy the files around it.',
    );
  }
}
