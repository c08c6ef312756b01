import { HcsSandboxError } from '../internal/errors.js';
import { lastLines } from './command-output.js';

/**
 * What a finished command produced. `Out` is the output type: `string`, or
 * `Buffer` for a command run with `encoding: 'buffer'`.
 */
export interface CommandResult<Out extends string | Buffer = string> {
  /** The command line as run. */
  command: string;
  exitCode: number;
  stdout: Out;
  stderr: Out;
  /** Killed because `timeoutMs` passed. */
  timedOut: boolean;
  /** Killed because the caller's `signal` aborted. */
  isCanceled: boolean;
  durationMs: number;
}

/**
 * A command exited with a non-zero code (or was killed) and the caller asked
 * for rejection (the default of `commands.run`). Shaped like the result, so
 * `catch (e) { e.stdout }` works as with execa. With `encoding: 'buffer'` its
 * `stdout`/`stderr` are Buffers (`CommandExitError<Buffer>`).
 */
export class CommandExitError<Out extends string | Buffer = string>
  extends HcsSandboxError
  implements CommandResult<Out>
{
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: Out;
  readonly stderr: Out;
  readonly timedOut: boolean;
  readonly isCanceled: boolean;
  readonly durationMs: number;

  constructor(result: CommandResult<Out>) {
    const why = result.timedOut
      ? 'timed out and was killed'
      : result.isCanceled
        ? 'was canceled and killed'
        : `exited with code ${result.exitCode}`;
    const tail = lastLines(result.stderr, 3);
    super('COMMAND_FAILED', `Command ${why}: ${result.command}${tail ? `\n${tail}` : ''}`);
    this.command = result.command;
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.timedOut = result.timedOut;
    this.isCanceled = result.isCanceled;
    this.durationMs = result.durationMs;
  }
}

/**
 * The command ran past its `timeoutMs` and was killed. A `CommandExitError`
 * too (same result fields, `timedOut: true`), so either check works.
 */
export class TimeoutError<Out extends string | Buffer = string> extends CommandExitError<Out> {
  constructor(result: CommandResult<Out>) {
    super(result);
    Object.defineProperty(this, 'code', { value: 'TIMEOUT' });
  }
}
