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

/** The request needs a stopped sandbox and this one runs (stop it first). */
export class SandboxRunningError extends InvalidStateError {
  readonly sandbox: string;

  constructor(sandbox: string) {
    super('SANDBOX_RUNNING', `Sandbox ${JSON.stringify(sandbox)} is running; stop it first.`);
    this.sandbox = sandbox;
  }
}
