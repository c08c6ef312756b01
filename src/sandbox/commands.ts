import type { Readable, Writable } from 'node:stream';
import type { ComputeSystem } from '../hcs/index.js';
import { InvalidArgumentError } from '../internal/errors.js';
// The builder's own module, not schema/'s index: the remote client runs commands through this file
// on Linux, and loads neither the HCS layer nor the whole schema (src/remote/client/).
import { buildProcessParameters, quoteWindowsArgs } from '../schema/builders/process-parameters.js';
import { CommandExitError, type CommandResult, TimeoutError } from './command-errors.js';
import { CollectedOutput, defineOutput, type OutputEncoding, type OutputOf } from './command-output.js';

/**
 * How to run a command. `E` is the output encoding: `stdout`/`stderr` (and the
 * `onStdout`/`onStderr` chunks) are strings by default and Buffers with
 * `encoding: 'buffer'`.
 */
export interface CommandOptions<E extends OutputEncoding = 'utf8'> {
  /** Working directory inside the sandbox (absolute Windows path). */
  cwd?: string;
  /** Environment variables for the command. */
  env?: Record<string, string>;
  /** Account inside the sandbox (`ContainerUser`, `ContainerAdministrator`, ...). */
  user?: string;
  /** Text or bytes written to stdin, which is then closed. */
  stdin?: string | Uint8Array;
  /**
   * Leave stdin open, to write to `handle.stdin` as the command runs (and end
   * it yourself). Without it, and without `stdin` or `tty`, stdin is closed at
   * once so that commands reading it see EOF instead of waiting.
   */
  openStdin?: boolean;
  /** Kill the command after this many milliseconds (`timedOut` is then set). */
  timeoutMs?: number;
  /** Kill the command when this aborts (`isCanceled` is then set). */
  signal?: AbortSignal;
  /** Run under a pseudo console (stdout and stderr merge). */
  tty?: boolean;
  /** Console size with `tty`. */
  cols?: number;
  rows?: number;
  /**
   * VM sandboxes: run in the signed-in user's desktop session (its windows
   * show in `hcs-sandbox view`), as Windows Sandbox runs a logon command;
   * waits for the user to be signed in (up to `desktopWaitMs`, default 120 s).
   * Containers have no desktop: refused there.
   */
  desktop?: boolean;
  desktopWaitMs?: number;
  /**
   * `'utf8'` (default): output as text, each byte decoded once (while the
   * command writes, in pieces of about 1 MiB).
   * `'buffer'`: output as the bytes the command wrote, undecoded.
   */
  encoding?: E;
  /**
   * Called with each chunk of output as it arrives: text (a character split
   * across chunks arrives whole, in the later one), or a Buffer with
   * `encoding: 'buffer'`. The same output is still collected for the result.
   */
  onStdout?: (chunk: OutputOf<E>) => void;
  onStderr?: (chunk: OutputOf<E>) => void;
  /**
   * `false`: output goes to `onStdout`/`onStderr` (and to readers of the
   * handle's streams) only, and the result's `stdout`/`stderr` are empty, so
   * a command that writes without end costs no memory (default true).
   */
  keepOutput?: boolean;
}

export interface RunOptions<E extends OutputEncoding = 'utf8'> extends CommandOptions<E> {
  /** Reject with {@link CommandExitError} when the exit code is not 0 (default true). */
  reject?: boolean;
}

/**
 * A started process, whoever runs it: an HCS process (`HcsProcess`), or one a
 * VM's guest agent runs (`guest-commands.ts`).
 */
export interface CommandProcess {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  wait(): Promise<{ exitCode: number }>;
  /** Kills it (and, where the runner can, what it started); already exited is fine. */
  terminate(): Promise<void>;
  resizeConsole(cols: number, rows: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a checked command line with its stdio piped. */
export type CommandLauncher = (
  commandLine: string,
  options: CommandOptions<OutputEncoding>,
) => Promise<CommandProcess>;

/** A command given as one command line, or as argv (quoted for Windows for you). */
export type CommandInput = string | readonly string[];

function commandLineOf(command: CommandInput): string {
  if (typeof command === 'string') {
    if (!command.trim()) throw new InvalidArgumentError('command', 'a non-empty command line', command);
    return command;
  }
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string')) {
    throw new InvalidArgumentError(
      'command',
      'a command line string or a non-empty array of strings',
      command,
    );
  }
  return quoteWindowsArgs(command);
}

function checkOptions(options: CommandOptions<OutputEncoding>): void {
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new InvalidArgumentError('timeoutMs', 'a positive number of milliseconds', options.timeoutMs);
  }
  for (const [field, value] of [
    ['cols', options.cols],
    ['rows', options.rows],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0 && value <= 0xffff)) {
      throw new InvalidArgumentError(field, 'a whole number of character cells from 1 to 65535', value);
    }
  }
  if (options.encoding !== undefined && options.encoding !== 'utf8' && options.encoding !== 'buffer') {
    throw new InvalidArgumentError('encoding', "'utf8' or 'buffer'", options.encoding);
  }
  if (options.env !== undefined) {
    for (const [key, value] of Object.entries(options.env)) {
      if (!key || key.includes('=') || typeof value !== 'string') {
        throw new InvalidArgumentError(`env.${key}`, 'a name without "=" and a string value', value);
      }
    }
  }
}

/**
 * A command running in a sandbox: its streams, `wait()` for the result, and
 * `kill()`. `Out` is the output type of the result: `string`, or `Buffer`
 * with `encoding: 'buffer'`.
 *
 * `stdout`/`stderr` are Node Readables of Buffer chunks, for `pipeline()` or
 * `for await`. Output is collected for `wait()` as it streams past (the same
 * chunks, not copies), whether or not you also read the streams yourself;
 * output you do read yourself is joined/decoded only if you then read it from
 * the result. Start reading right after `spawn()` resolves so that you see
 * every chunk.
 * Backpressure from your reader holds the command's output, as with
 * `child_process`.
 */
export class CommandHandle<Out extends string | Buffer = string> {
  readonly command: string;
  readonly #process: CommandProcess;
  readonly #started = performance.now();
  readonly #result: Promise<CommandResult<Out>>;
  #timedOut = false;
  #canceled = false;

  /** @internal Use `sandbox.commands.spawn()`. */
  constructor(command: string, process: CommandProcess, options: CommandOptions<OutputEncoding>) {
    this.command = command;
    this.#process = process;
    const encoding = options.encoding ?? 'utf8';
    const onStdout = options.onStdout as ((chunk: string | Buffer) => void) | undefined;
    const onStderr = options.onStderr as ((chunk: string | Buffer) => void) | undefined;
    const keep = options.keepOutput ?? true;
    const stdout = new CollectedOutput(encoding, onStdout, keep).collect(process.stdout);
    const stderr = new CollectedOutput(encoding, onStderr, keep).collect(process.stderr);
    this.#result = this.#settle(stdout, stderr, options);
    this.#result.catch(() => undefined);
  }

  get pid(): number {
    return this.#process.pid;
  }
  get stdin(): Writable | null {
    return this.#process.stdin;
  }
  get stdout(): Readable | null {
    return this.#process.stdout;
  }
  get stderr(): Readable | null {
    return this.#process.stderr;
  }

  /** The result once the command has exited and its output is drained. */
  wait(): Promise<CommandResult<Out>> {
    return this.#result;
  }

  /**
   * Kills the command. Already exited is fine, and so is an exit that this
   * kill caused arriving before the kill's own completion (the command then
   * closes its handle, cancelling that terminate: see `HcsProcess.terminate`).
   */
  async kill(): Promise<void> {
    await this.#process.terminate();
  }

  /** Resizes the pseudo console (commands started with `tty`). */
  resize(cols: number, rows: number): Promise<void> {
    return this.#process.resizeConsole(cols, rows);
  }

  async #settle(
    stdout: Promise<CollectedOutput>,
    stderr: Promise<CollectedOutput>,
    options: CommandOptions<OutputEncoding>,
  ): Promise<CommandResult<Out>> {
    const stopTimer = this.#arm(options);
    try {
      const [exit, out, err] = await Promise.all([this.#process.wait(), stdout, stderr]);
      const result = { command: this.command, exitCode: exit.exitCode } as CommandResult<Out>;
      // Output a caller streamed is joined/decoded only if read from the result.
      defineOutput(result, 'stdout', out);
      defineOutput(result, 'stderr', err);
      result.timedOut = this.#timedOut;
      result.isCanceled = this.#canceled;
      result.durationMs = Math.round(performance.now() - this.#started);
      return result;
    } finally {
      stopTimer();
      await this.#process.close();
    }
  }

  /** Kills on timeout or abort; returns the disarm function. */
  #arm(options: CommandOptions<OutputEncoding>): () => void {
    const kill = () => void this.#process.terminate().catch(() => undefined);
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            this.#timedOut = true;
            kill();
          }, options.timeoutMs);
    const onAbort = () => {
      this.#canceled = true;
      kill();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    return () => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
  }
}

/** Starts processes in the compute system `system` through HCS (`HcsCreateProcess`). */
export function hcsLauncher(system: ComputeSystem): CommandLauncher {
  return async (commandLine, options) => {
    if (options.desktop) {
      throw new InvalidArgumentError(
        'desktop',
        'no desktop session in a container',
        true,
        "a desktop session is a VM sandbox's (isolation vm); a container runs commands as its user, with no desktop",
      );
    }
    const parameters = buildProcessParameters({
      commandLine,
      ...(options.cwd !== undefined && { workingDirectory: options.cwd }),
      ...(options.env !== undefined && { environment: options.env }),
      ...(options.user !== undefined && { user: options.user }),
      ...(options.tty && {
        emulateConsole: true,
        consoleSize: { width: options.cols ?? 80, height: options.rows ?? 25 },
      }),
      createStdInPipe: true,
      createStdOutPipe: true,
      createStdErrPipe: !options.tty,
    });
    // hcs/ on first use: a process needs it, importing this module (the remote client does) does not.
    const { HcsProcess } = await import('../hcs/index.js');
    return HcsProcess.create(system, parameters, options.signal ? { signal: options.signal } : {});
  };
}

/** Where a command runs: an HCS compute system, or any launcher. */
export type CommandHost = ComputeSystem | CommandLauncher;

/** Starts `command` in `host` with its stdio piped. */
export async function spawnCommand<E extends OutputEncoding = 'utf8'>(
  host: CommandHost,
  command: CommandInput,
  options: CommandOptions<E> = {},
): Promise<CommandHandle<OutputOf<E>>> {
  const commandLine = commandLineOf(command);
  checkOptions(options);
  const launch = typeof host === 'function' ? host : hcsLauncher(host);
  const process = await launch(commandLine, options);
  const handle = new CommandHandle<OutputOf<E>>(commandLine, process, options);
  if (options.stdin !== undefined) {
    process.stdin?.end(options.stdin);
  } else if (!options.tty && !options.openStdin) {
    // Nothing to send: close stdin so commands that read it see EOF instead of waiting.
    process.stdin?.end();
  }
  return handle;
}

/** Runs `command` to completion and returns (or, by default, rejects on failure with) its result. */
export async function runCommand<E extends OutputEncoding = 'utf8'>(
  host: CommandHost,
  command: CommandInput,
  options: RunOptions<E> = {},
): Promise<CommandResult<OutputOf<E>>> {
  const handle = await spawnCommand(host, command, options);
  const result = await handle.wait();
  if ((options.reject ?? true) && (result.exitCode !== 0 || result.timedOut || result.isCanceled)) {
    throw result.timedOut ? new TimeoutError(result) : new CommandExitError(result);
  }
  return result;
}
