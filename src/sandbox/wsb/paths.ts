/**
 * Windows path rules for `.wsb` files, written for Linux as well as Windows
 * (so `node:path` is not used: on Linux it would apply POSIX rules).
 */

/** The folder Windows Sandbox maps a folder to when `<SandboxFolder>` is absent. */
export const WSB_DEFAULT_DESKTOP = 'C:\\Users\\WDAGUtilityAccount\\Desktop';

const DRIVE_ABSOLUTE = /^[A-Za-z]:[\\/]/;
const UNC = /^[\\/]{2}(?![?.][\\/])[^\\/]+[\\/][^\\/]+/;
const VERBATIM_DRIVE = /^\\\\\?\\[A-Za-z]:\\/;
const VERBATIM_UNC = /^\\\\\?\\UNC\\[^\\]+\\[^\\]+/i;
// Characters Windows refuses in file names (beyond the drive's colon).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const BAD_CHARS = /[<>"|?*\u0000-\u001f]/;

export type PathProblem = string | undefined;

/** Why `path` is not an absolute host path (drive or UNC), or `undefined` when it is one. */
export function hostPathProblem(path: string): PathProblem {
  if (path.includes('%')) return 'environment variables are not expanded';
  let rest: string;
  if (VERBATIM_DRIVE.test(path)) rest = path.slice(6);
  else if (VERBATIM_UNC.test(path)) rest = path.slice(8);
  else if (DRIVE_ABSOLUTE.test(path)) rest = path.slice(2);
  else if (UNC.test(path)) rest = path.slice(2);
  else return relativeReason(path);
  return charactersProblem(rest);
}

/** Why `path` is not an absolute path inside the sandbox (`C:\...`), or `undefined`. */
export function sandboxPathProblem(path: string): PathProblem {
  if (path.includes('%')) return 'environment variables are not expanded';
  if (!DRIVE_ABSOLUTE.test(path)) {
    return UNC.test(path) || path.startsWith('\\\\?\\')
      ? 'a path inside the sandbox must start with a drive letter'
      : relativeReason(path);
  }
  const rest = path.slice(2);
  if (rest.split(/[\\/]/).some((segment) => segment === '.' || segment === '..'))
    return "'.' and '..' segments are not allowed";
  return charactersProblem(rest);
}

function relativeReason(path: string): string {
  if (/^[A-Za-z]:/.test(path)) return 'a drive-relative path (no backslash after the colon) is relative';
  if (/^[\\/]/.test(path)) return 'a path without a drive letter is relative to the current drive';
  return 'relative paths are not supported';
}

function charactersProblem(rest: string): PathProblem {
  if (rest.includes(':')) return "':' may appear only after the drive letter";
  const bad = BAD_CHARS.exec(rest);
  if (bad) return `the character ${JSON.stringify(bad[0])} is not allowed in a Windows path`;
  return undefined;
}

/** The last segment of a Windows path, ignoring trailing separators (`C:\a\b\` → `b`). */
export function windowsBaseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('\\'), trimmed.lastIndexOf('/'));
  return trimmed.slice(cut + 1);
}

/** A key that compares Windows paths the way Windows does (case-insensitive, either slash, no trailing slash). */
export function windowsPathKey(path: string): string {
  return path.replace(/\//g, '\\').replace(/\\+$/, '').toLowerCase();
}

/**
 * Where Windows Sandbox puts a mapped folder without `<SandboxFolder>`: the
 * desktop of `WDAGUtilityAccount`, under the host folder's own name. A drive
 * root (`D:\`) has no name, so `undefined`.
 */
export function defaultSandboxFolder(hostFolder: string): string | undefined {
  const name = windowsBaseName(hostFolder);
  if (name === '' || /^[A-Za-z]:$/.test(name) || name === '?') return undefined;
  return `${WSB_DEFAULT_DESKTOP}\\${name}`;
}
