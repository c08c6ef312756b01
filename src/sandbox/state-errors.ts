import { InvalidStateError } from '../internal/errors.js';
import type { SandboxStatus } from './record.js';

/** The request needs a running sandbox and this one is not (start it first). */
export class SandboxNotRunningError extends InvalidStateError {
  readonly sandbox: string;
  readonly status: SandboxStatus;

  constructor(sandbox: string, status: SandboxStatus) {
    super(
      'SANDBOX_NOT_RUNNING',
      `Sandbox ${JSON.stringify(sandbox)} is not running (status ${status}); start it first.`,
    );
    this.sandbox = sandbox;
    this.status = status;
  }
}

/** The request needs a stopped sandbox and this one runs (or is paused). */
export class SandboxRunningError extends InvalidStateError {
  readonly sandbox: string;
  readonly status: SandboxStatus;

  /** `fix` says what to do, e.g. `stop it first`. */
  constructor(sandbox: string, status: SandboxStatus = 'running', fix = 'stop it first') {
    super('SANDBOX_RUNNING', `Sandbox ${JSON.stringify(sandbox)} is ${status}: ${fix}.`);
    this.sandbox = sandbox;
    this.status = status;
  }
}
