import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandInput } from '../index.js';
import { flagValue, type Io, UsageError } from './command.js';
import { exitCodeOf } from './exit-codes.js';
import { isSdkError, sdk } from './sdk.js';

/**
 * Shared parsing and printing for the sandbox verbs (`run`, `exec`, `ls`, ...):
 * pure helpers that turn flags into plan fields, and the few things the verbs
 * print alike.
 */

/** `-e K=V` → `{K: V}`; a later `-e` for the same name wins. */
export function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`-e expects NAME=VALUE, got "${pair}"`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

export interface VolumeSpec {
  hostPath: string;
  sandboxPath: string;
  readOnly: boolean;
}

/**
 * `-v HOST:SANDBOX[:ro|:rw]`. Both sides may be Windows paths with a drive
 * colon (`C:\host:C:\box:ro`), so the split is at the colon followed by a
 * drive letter and a slash (the last such colon), and `:ro`/`:rw` only at the
 * very end.
 */
export function parseVolume(spec: string): VolumeSpec {
  let rest = spec;
  let readOnly = false;
  const mode = /:(ro|rw)$/i.exec(rest);
  if (mode) {
    readOnly = mode[1]?.toLowerCase() === 'ro';
    rest = rest.slice(0, mode.index);
  }
  let split = -1;
  for (let i = rest.indexOf(':'); i >= 0; i = rest.indexOf(':', i + 1)) {
    if (i > 0 && /^:[A-Za-z]:[\\/]/.test(rest.slice(i))) split = i;
  }
  const hostPath = split > 0 ? rest.slice(0, split) : '';
  const sandboxPath = split > 0 ? rest.slice(split + 1) : '';
  if (!hostPath || !sandboxPath) {
    throw new UsageError(
      `-v expects HOST:SANDBOX[:ro] with SANDBOX an absolute path such as C:\\data, got "${spec}"`,
    );
  }
  return { hostPath, sandboxPath, readOnly };
}

/** One side of `cp`: `NAME:C:\path` is in a sandbox, anything else is on the host. */
export function parseCpOperand(value: string): { name: string; path: string } | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9_.-]*):([A-Za-z]:[\\/].*)$/.exec(value);
  if (!match || match[1] === undefined || match[2] === undefined) return undefined;
  // `C:\x` alone is a host path: a one-letter "name" followed by a drive path is not.
  return { name: match[1], path: match[2] };
}

export const parseNonNegativeInt = flagValue((value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new UsageError('expected a whole number (0 or more)');
  return n;
});

/**
 * The command after `--`: one argument is a whole command line (`"cmd /c echo
 * hi"`), several are argv, quoted for Windows by the SDK.
 */
export function commandInput(command: readonly string[]): CommandInput {
  return command.length === 1 ? (command[0] as string) : command;
}

/** A host path as the SDK wants it: absolute, resolved against the current folder. */
export function absoluteHostPath(path: string): string {
  return /^([A-Za-z]:[\\/]|\\\\)/.test(path) ? path : resolve(path);
}

/** Where `run -d` (and `run`) write a sandbox's output, and its exit code when done. */
export function logFiles(name: string): { dir: string; log: string; exit: string } {
  const dir = join(sdk().defaultStateRoot(), 'logs');
  return { dir, log: join(dir, `${name}.log`), exit: join(dir, `${name}.exit.json`) };
}

export function hasLog(name: string): boolean {
  return existsSync(logFiles(name).log);
}

/**
 * Runs `fn` for each name, Docker-style: a failure is printed as one line and
 * the others still run. Returns 0, or the exit code of the last failure.
 * With a single name the error is thrown instead (main.ts prints it).
 */
export async function eachName(
  io: Io,
  names: readonly string[],
  fn: (name: string) => Promise<void>,
): Promise<number> {
  if (names.length === 1) {
    await fn(names[0] as string);
    return 0;
  }
  let code = 0;
  for (const name of names) {
    try {
      await fn(name);
    } catch (error) {
      if (!(isSdkError(error, (l) => l.HcsSandboxError) || error instanceof UsageError)) throw error;
      io.err(`hcs-sandbox: ${error.message}\n`);
      code = exitCodeOf(error);
    }
  }
  return code;
}

/** `2024-05-01T10:00:00Z` → `5 minutes ago`. */
export function ago(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size || size === 1) {
      const n = Math.floor(seconds / size);
      return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    }
  }
  return iso;
}
