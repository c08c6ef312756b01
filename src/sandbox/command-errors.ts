import { HcsSandboxError } from '../internal/errors.js';

/** What a finished command produced. */
export interface CommandResult {
  /** The command line as run. */
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Killed because `timeoutMs` passed. */
  timedOut: boolean;
  /** Killed because the caller's `signal` aborted. */
  isCanceled: boolean;
  durationMs: number;
}

/**
 * A command exited with a non-zero code (or was killed) and the caller asked
 * for rejection (the default of `commands.run`). Shaped like the result, so
 * `catch (e) { e.stdout }` works as with execa.
 */
export class CommandExitError extends HcsSandboxError implements CommandResult {
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly isCanceled: boolean;
  readonly durationMs: number;

  constructor(result: CommandResult) {
    const why = result.timedOut
      ? 'timed out and was killed'
      : result.isCanceled
        ? 'was canceled and killed'
        : `exited with code ${result.exitCode}`;
    const tail = result.stderr.trim().split(/\r?\n/).slice(-3).join('\n');
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
export class TimeoutError extends CommandExitError {
  constructor(result: CommandResult) {
    super(result);
    Object.defineProperty(this, 'code', { value: 'TIMEOUT' });
  }
}
