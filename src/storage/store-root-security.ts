/**
 * The store root (`%ProgramData%\hcs-sandbox`, `HCS_SANDBOX_HOME`) holds what
 * privileged operations act on: sandbox records (with their `env`, often
 * secrets), layers HcsImportLayer fills, folders `gc` destroys, the blob cache
 * pulls write. Anyone who can write there can steer them, and anyone who can
 * read there can read the records. So before any write, `secureStoreRoot`:
 *
 * - creates a missing root with a protected DACL granting full control to
 *   LocalSystem, BUILTIN\Administrators and the folder's owner only (what
 *   moby and containerd do for their roots: `SddlAdministratorsLocalSystem`,
 *   `D:P(A;OICI;GA;;;BA)(A;OICI;GA;;;SY)`, moby pkg/system/filesys_windows.go), which
 *   everything created under it inherits; on other systems, mode 0700;
 * - refuses a root that is a link, or owned by anyone but Administrators,
 *   LocalSystem or this process's user (`%ProgramData%` lets every user
 *   create folders, so a root someone else made first is theirs);
 * - tightens a root others can still reach (one made by an older version
 *   inherited `%ProgramData%`'s "Users: read, create" ACEs) and says so.
 *
 * Files created by an elevated administrator are owned by BUILTIN\Administrators
 * (the elevated token's default owner), those of a non-elevated process by its
 * user: both are accepted, since that user is who runs hcs-sandbox.
 */
import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorCode } from '../internal/atomic-file.js';
import type { FileSecurityApi } from '../native/index.js';
import { StoreRootNotSecureError } from './errors.js';
import { ADMINISTRATORS_SID, SYSTEM_SID, untrustedTrustees } from './sddl.js';

/** The DACL a store root gets: full control for LocalSystem, Administrators and its owner; inherited by all below. */
export const STORE_ROOT_SDDL = 'D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)';

/**
 * The store's own folders whose entries are tightened with an old root:
 * Windows lets anyone open a file by its full path whatever the folders above
 * allow (Everyone holds SeChangeNotifyPrivilege, "bypass traverse checking"),
 * so a record keeps the "Users: read" it inherited until its own DACL changes.
 * Layer and scratch contents are never touched: their descriptors are the image's.
 */
const METADATA_FOLDERS = ['sandboxes', 'locks', 'images', 'blobs', 'logs'];

export interface SecureStoreRootResult {
  root: string;
  /** The folder did not exist and was created with the restrictive DACL (mode). */
  created: boolean;
  /** The folder existed and others could reach it: its DACL (mode) was replaced. */
  tightened: boolean;
}

export interface SecureStoreRootOptions {
  /** The platform whose rules apply (tests); default this process's. */
  platform?: NodeJS.Platform;
  /** The advapi32 bindings (tests); default the real ones. */
  security?: FileSecurityApi;
}

/**
 * Makes sure `root` exists and only administrators (or its owner) can reach
 * it; run before anything is written under it. Cheap enough to run before
 * every write (an lstat and a descriptor read).
 *
 * @throws StoreRootNotSecureError
 */
export async function secureStoreRoot(
  root: string,
  options: SecureStoreRootOptions = {},
): Promise<SecureStoreRootResult> {
  const windows = (options.platform ?? process.platform) === 'win32';
  let info = await lstatIfExists(root);
  if (info === undefined) {
    await mkdir(dirname(root), { recursive: true });
    if (await (windows ? createWindowsRoot(root, options) : createPosixRoot(root))) {
      return { root, created: true, tightened: false };
    }
    info = await lstat(root); // made by another process meanwhile: check it as any existing root
  }
  if (info.isSymbolicLink()) {
    throw new StoreRootNotSecureError(
      root,
      'it is a link (symbolic link or junction), which is never followed',
    );
  }
  if (!info.isDirectory()) throw new StoreRootNotSecureError(root, 'it is not a folder');
  const tightened = windows ? await checkWindowsRoot(root, options) : await checkPosixRoot(root, info);
  if (tightened) {
    process.emitWarning(
      `hcs-sandbox tightened the permissions of ${root}: other users could reach it (an older version made it). ` +
        'Only administrators and its owner can now. What others may have put there before is not vouched for: ' +
        'remove the folder to start clean.',
      { code: 'HCS_SANDBOX_STORE_ROOT_TIGHTENED' },
    );
  }
  return { root, created: false, tightened };
}

async function lstatIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** The advapi32 bindings, imported on Windows only: elsewhere the store's import graph stays plain fs. */
async function windowsSecurity(options: SecureStoreRootOptions): Promise<FileSecurityApi> {
  if (options.security) return options.security;
  const { fileSecurityBindings } = await import('../native/security/index.js');
  return fileSecurityBindings();
}

async function createWindowsRoot(root: string, options: SecureStoreRootOptions): Promise<boolean> {
  return (await windowsSecurity(options)).createDirectory(root, STORE_ROOT_SDDL);
}

/** Checks the owner, tightens the DACL if others are in it; true when tightened. */
async function checkWindowsRoot(root: string, options: SecureStoreRootOptions): Promise<boolean> {
  const api = await windowsSecurity(options);
  const user = api.processUserSid();
  const { owner, sddl } = api.read(root);
  if (![ADMINISTRATORS_SID, SYSTEM_SID, user].includes(owner)) {
    throw new StoreRootNotSecureError(
      root,
      `it is owned by ${owner}, not by Administrators, LocalSystem or this user (${user})`,
    );
  }
  const trusted = [owner, user];
  if (untrustedTrustees(sddl, trusted).length === 0) return false;
  api.setDacl(root, STORE_ROOT_SDDL);
  const after = untrustedTrustees(api.read(root).sddl, trusted);
  if (after.length > 0) {
    throw new StoreRootNotSecureError(
      root,
      `its access list still lets ${after.join(', ')} in after tightening`,
    );
  }
  for (const path of await metadataEntries(root)) api.setDacl(path, STORE_ROOT_SDDL);
  return true;
}

/** The root's direct entries and the entries of its metadata folders; links are skipped, never followed. */
async function metadataEntries(root: string): Promise<string[]> {
  const paths: string[] = [];
  const list = async (dir: string, deeper: boolean) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isSymbolicLink() || !(entry.isFile() || entry.isDirectory())) continue;
      const path = join(dir, entry.name);
      paths.push(path);
      if (deeper && entry.isDirectory() && METADATA_FOLDERS.includes(entry.name)) await list(path, false);
    }
  };
  await list(root, true);
  return paths;
}

/** mkdir with mode 0700 (set again: the umask may have taken bits); false when something was there. */
async function createPosixRoot(root: string): Promise<boolean> {
  try {
    await mkdir(root, { mode: 0o700 });
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    throw err;
  }
  await chmod(root, 0o700);
  return true;
}

/**
 * The POSIX rules: owned by this user (or root), never writable by group or
 * others (who could have planted anything), and readable by them only until
 * tightened to 0700 (older versions made it 0755).
 */
async function checkPosixRoot(root: string, info: Stats): Promise<boolean> {
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
    throw new StoreRootNotSecureError(
      root,
      `it is owned by uid ${info.uid}, not by this user (${uid}) or root`,
    );
  }
  if ((info.mode & 0o022) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, '0');
    throw new StoreRootNotSecureError(root, `its group or other users can write it (mode ${mode})`);
  }
  if ((info.mode & 0o077) === 0) return false;
  try {
    await chmod(root, 0o700);
  } catch (cause) {
    throw new StoreRootNotSecureError(root, `others can read it and chmod 0700 failed (${errorCode(cause)})`);
  }
  return true;
}
