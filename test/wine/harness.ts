import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repo = join(import.meta.dirname, '..', '..');
export const scripts = join(import.meta.dirname, 'scripts');

export interface WineRun<R = unknown> {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** What the script passed to `done()` (test/wine/scripts/lib.mjs), parsed. */
  result: R | undefined;
}

export interface WineRunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Simulated-host instance (separate service, separate state). */
  instance?: string;
}

/** A fresh simulated-host instance name: tests that use one see no one else's systems. */
export function newInstance(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A script running in node.exe under Wine, its output going to files as it comes. */
export interface WineChild<R = unknown> {
  readonly child: ChildProcess;
  /** Settles with the exit code when the process has exited. */
  readonly exited: Promise<number | null>;
  /** What it has written so far. */
  stdout(): string;
  stderr(): string;
  /** What the script passed to `done()`, once written. */
  result(): R | undefined;
  /** Closes the output files and removes them (kill the child first if it still runs). */
  dispose(): void;
}

/**
 * Starts a script inside the Windows build of Node under Wine, without
 * waiting for it. Its stdout and stderr go to files, never pipes: under Wine,
 * node.exe writing to a pipe dies with EBADF (TEST-HOST.md). The script
 * reports through a result file.
 */
export function startInWine<R = unknown>(
  script: string,
  args: string[] = [],
  options: WineRunOptions = {},
): WineChild<R> {
  const nodeExe = process.env.HCS_TEST_NODE_EXE;
  if (!nodeExe) throw new Error('HCS_TEST_NODE_EXE is not set: the wine tier global setup did not run');
  const dir = mkdtempSync(join(tmpdir(), 'hcs-wine-'));
  const outFile = join(dir, 'stdout.txt');
  const errFile = join(dir, 'stderr.txt');
  const resultFile = join(dir, 'result.json');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  const scriptPath = script.includes('/') ? script : join(scripts, script);
  const child = spawn('wine', [nodeExe, scriptPath, ...args], {
    cwd: repo,
    stdio: ['ignore', out, err],
    env: {
      ...process.env,
      HCS_TEST_RESULT_FILE: resultFile,
      // Drive Z: is the Linux root under Wine: file:///Z:/<linux path>.
      NODE_OPTIONS: `--import=file:///Z:${join(import.meta.dirname, 'wine-shims.mjs')}`,
      HCSSIM_INSTANCE: options.instance ?? 'default',
      ...options.env,
    },
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', reject);
  });
  let disposed = false;
  return {
    child,
    exited,
    stdout: () => readSafe(outFile),
    stderr: () => readSafe(errFile),
    result: () => {
      const text = readSafe(resultFile);
      return text ? (JSON.parse(text) as R) : undefined;
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      closeSync(out);
      closeSync(err);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a script inside the Windows build of Node under Wine and waits for it (see {@link startInWine}). */
export async function runInWine<R = unknown>(
  script: string,
  args: string[] = [],
  options: WineRunOptions = {},
): Promise<WineRun<R>> {
  const running = startInWine<R>(script, args, options);
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        running.child.kill('SIGKILL');
        reject(
          new Error(
            `${script} did not finish within ${options.timeoutMs ?? 60_000} ms:\n${running.stderr()}`,
          ),
        );
      }, options.timeoutMs ?? 60_000);
    });
    const exitCode = await Promise.race([running.exited, timeout]).finally(() => clearTimeout(timer));
    return {
      exitCode,
      stdout: running.stdout(),
      stderr: running.stderr(),
      result: running.result(),
    };
  } finally {
    running.dispose();
  }
}

/** Runs a script and insists it succeeded, showing its output if not. */
export async function runOk<R = unknown>(
  script: string,
  args: string[] = [],
  options: WineRunOptions = {},
): Promise<R> {
  const run = await runInWine<R>(script, args, options);
  if (run.exitCode !== 0 || run.result === undefined) {
    throw new Error(
      `${script} ${args.join(' ')} exited with ${run.exitCode}\n--- result\n${JSON.stringify(run.result)}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
    );
  }
  return run.result;
}

function readSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The hcs-sandbox CLI the Wine tier runs. */
const CLI = join(repo, 'dist', 'cli', 'main.js');

/** Runs the hcs-sandbox CLI (dist/cli/main.js) in node.exe under Wine, as a user would. */
export function runCli(args: string[], options: WineRunOptions = {}): Promise<WineRun> {
  return runInWine(CLI, args, options);
}

/** Starts the hcs-sandbox CLI under Wine without waiting (a verb that runs until stopped, like `view`). */
export function startCli(args: string[], options: WineRunOptions = {}): WineChild {
  return startInWine(CLI, args, options);
}

/** A Linux path as Windows programs under Wine see it (drive Z: is the Linux root). */
export function winePath(path: string): string {
  return `Z:${path.replace(/\//g, '\\')}`;
}
