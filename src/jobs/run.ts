import { InvalidArgumentError } from '../internal/errors.js';
import { jobsNative, type Win32Handle } from '../native/index.js';
import { quoteWindowsArgs } from '../schema/index.js';
import type { JobAccounting } from './accounting.js';
import { JobRunAbortedError } from './errors.js';
import { Job } from './job.js';
import { type JobLimits, resolveLimits } from './limits.js';

/** Where a child's standard stream goes: ours, nowhere (NUL), or a file. */
export type StdioTarget = 'inherit' | 'ignore' | { file: string; append?: boolean };

export interface RunInJobOptions {
  /** Working folder of the process (default: ours). */
  cwd?: string;
  /** Variables to set (merged over ours unless `extendEnv` is false); undefined removes one. */
  env?: Record<string, string | undefined>;
  /** Start from our environment (default true). */
  extendEnv?: boolean;
  /** Each stream: 'inherit' (default), 'ignore', or `{ file }` (stdin reads it; stdout/stderr write or append). */
  stdio?: { stdin?: StdioTarget; stdout?: StdioTarget; stderr?: StdioTarget };
  /** Name the job (so other tools can open it). */
  name?: string;
  /** Stop waiting, terminate the job and throw JobRunAbortedError. */
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface RunInJobResult {
  exitCode: number;
  processId: number;
  accounting: JobAccounting;
}

/** How long one worker-thread wait lasts: between slices, abort and timeout are noticed. */
const WAIT_SLICE_MS = 250;

/** The environment block entries for a run (pure). */
export function buildEnvironment(
  base: NodeJS.ProcessEnv,
  env: Record<string, string | undefined> | undefined,
  extendEnv: boolean,
): string[] | null {
  if (!env && extendEnv) return null;
  const merged = new Map<string, [string, string]>();
  // Windows variable names are case-insensitive: the last spelling wins.
  const put = (k: string, v: string | undefined) => {
    if (v === undefined) merged.delete(k.toUpperCase());
    else merged.set(k.toUpperCase(), [k, v]);
  };
  if (extendEnv) for (const [k, v] of Object.entries(base)) put(k, v);
  for (const [k, v] of Object.entries(env ?? {})) put(k, v);
  return [...merged.values()].map(([k, v]) => `${k}=${v}`);
}

function checkOptions(commandLine: string | readonly string[], options: RunInJobOptions): string {
  const line = typeof commandLine === 'string' ? commandLine : quoteWindowsArgs(commandLine);
  if (typeof commandLine !== 'string' && (!Array.isArray(commandLine) || commandLine.length === 0))
    throw new InvalidArgumentError(
      'commandLine',
      'a command line string or a non-empty array of arguments',
      commandLine,
    );
  if (line.trim() === '')
    throw new InvalidArgumentError('commandLine', 'a non-empty command line', commandLine);
  if (line.includes('\0'))
    throw new InvalidArgumentError('commandLine', 'text without NUL characters', commandLine);
  if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0))
    throw new InvalidArgumentError('timeoutMs', 'a positive number of milliseconds', options.timeoutMs);
  for (const [name, target] of Object.entries(options.stdio ?? {})) {
    const ok =
      target === 'inherit' ||
      target === 'ignore' ||
      (typeof target === 'object' &&
        target !== null &&
        typeof target.file === 'string' &&
        target.file !== '');
    if (!ok)
      throw new InvalidArgumentError(`stdio.${name}`, "'inherit', 'ignore' or { file: string }", target);
  }
  for (const [k, v] of Object.entries(options.env ?? {}))
    if (k === '' || k.includes('=') || (v !== undefined && typeof v !== 'string'))
      throw new InvalidArgumentError(`env.${k}`, 'a name without "=" and a string value', v);
  return line;
}

/**
 * Runs a command on this host inside a new job with these limits: creates the
 * job, starts the process suspended, assigns it, then resumes it, so not one
 * instruction runs outside the job. Waits for it to exit on a worker thread and
 * returns its exit code and what the job used. `killOnJobClose` defaults to
 * true here, so nothing the command started outlives the run.
 */
export async function runInJob(
  commandLine: string | readonly string[],
  limits: JobLimits = {},
  options: RunInJobOptions = {},
): Promise<RunInJobResult> {
  const line = checkOptions(commandLine, options);
  resolveLimits(limits);
  options.signal?.throwIfAborted();
  const native = jobsNative();
  const environment = buildEnvironment(process.env, options.env, options.extendEnv ?? true);

  const job = Job.create(options.name === undefined ? {} : { name: options.name });
  try {
    job.setLimits({ killOnJobClose: true, ...limits });
    const stdio: (Win32Handle | null)[] = [];
    let created: ReturnType<typeof native.createSuspendedProcess>;
    try {
      const streams = options.stdio ?? {};
      stdio.push(openStream(streams.stdin, 0), openStream(streams.stdout, 1), openStream(streams.stderr, 2));
      created = native.createSuspendedProcess({
        commandLine: line,
        cwd: options.cwd ?? null,
        environment,
        stdin: stdio[0] ?? null,
        stdout: stdio[1] ?? null,
        stderr: stdio[2] ?? null,
      });
    } finally {
      for (const h of stdio) if (h !== null) native.closeHandle(h);
    }
    try {
      try {
        job.assign(created.process);
      } catch (error) {
        native.terminateProcess(created.process, 1);
        throw error;
      }
      native.resumeThread(created.thread);
      const reason = await waitForExit(created.process, options);
      if (reason) {
        job.terminate(1);
        // TerminateJobObject is asynchronous: give the process a moment to be gone.
        await waitForExit(created.process, { timeoutMs: 10_000 });
        const exitCode = native.getExitCodeProcess(created.process);
        throw new JobRunAbortedError(reason, exitCode, safeAccounting(job), options.signal?.reason);
      }
      const exitCode = native.getExitCodeProcess(created.process);
      return { exitCode, processId: created.processId, accounting: job.accounting() };
    } finally {
      native.closeHandle(created.thread);
      native.closeHandle(created.process);
    }
  } finally {
    job.close();
  }
}

function openStream(target: StdioTarget | undefined, stream: 0 | 1 | 2): Win32Handle | null {
  const native = jobsNative();
  if (target === undefined || target === 'inherit') return native.inheritableStdHandle(stream);
  if (target === 'ignore') return native.openStdioFile('NUL', stream === 0 ? 'read' : 'write');
  return native.openStdioFile(target.file, stream === 0 ? 'read' : target.append ? 'append' : 'write');
}

/** Waits in slices on a worker thread; resolves null on exit, or why it stopped waiting. */
async function waitForExit(
  processHandle: Win32Handle,
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<'timeout' | 'canceled' | null> {
  const native = jobsNative();
  const deadline =
    options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted) return 'canceled';
    const left = deadline - Date.now();
    if (left <= 0) return 'timeout';
    if (await native.waitForObject(processHandle, Math.min(WAIT_SLICE_MS, Math.ceil(left)))) return null;
  }
}

function safeAccounting(job: Job): JobAccounting | null {
  try {
    return job.accounting();
  } catch {
    return null;
  }
}
