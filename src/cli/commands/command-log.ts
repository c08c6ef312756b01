import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { logFiles } from '../format.js';

/**
 * The log of a sandbox's main command (`run`, `run -d`, a .wsb logon command):
 * its output file and, once it ends, its exit code, which `logs` reads.
 */

/** Starts a fresh log for `name` (a previous sandbox of that name may have left one). */
export function freshLog(name: string): string {
  const files = logFiles(name);
  mkdirSync(files.dir, { recursive: true });
  rmSync(files.exit, { force: true });
  writeFileSync(files.log, '');
  return files.log;
}

export function writeExit(name: string, exitCode: number): void {
  writeFileSync(
    logFiles(name).exit,
    `${JSON.stringify({ exitCode, finishedAt: new Date().toISOString() })}\n`,
  );
}
