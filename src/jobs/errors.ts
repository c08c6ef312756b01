import { HcsSandboxError, InvalidStateError } from '../internal/errors.js';
import type { JobAccounting } from './accounting.js';

/** The job was used after `close()`. */
export class JobClosedError extends InvalidStateError {
  constructor(what: string) {
    super('JOB_CLOSED', `Cannot ${what}: the job object is closed.`);
  }
}

/**
 * `runInJob` gave up waiting (`timeoutMs` passed, or `signal` aborted). The job
 * was terminated first, so nothing it started is left running; `accounting` is
 * what the job had used by then.
 */
export class JobRunAbortedError extends HcsSandboxError {
  readonly timedOut: boolean;
  readonly canceled: boolean;
  readonly exitCode: number;
  readonly accounting: JobAccounting | null;

  constructor(
    reason: 'timeout' | 'canceled',
    exitCode: number,
    accounting: JobAccounting | null,
    cause?: unknown,
  ) {
    super(
      reason === 'timeout' ? 'JOB_TIMEOUT' : 'JOB_CANCELED',
      reason === 'timeout'
        ? 'The command did not finish in time; its job was terminated.'
        : 'The run was canceled; its job was terminated.',
      cause === undefined ? undefined : { cause },
    );
    this.timedOut = reason === 'timeout';
    this.canceled = reason === 'canceled';
    this.exitCode = exitCode;
    this.accounting = accounting;
  }
}
