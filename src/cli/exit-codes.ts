import { HcsSandboxError } from '../index.js';
import { UsageError } from './command.js';

/**
 * The process exit code an error gives (docs/cli.md, "Exit codes"): main.ts
 * for the error that ends a command, `eachName` for the last of several
 * failures. A command's own exit code (`run`, `exec`, `raw run`) is not an
 * error and does not come through here.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 3, host: 4, invalid: 5 } as const;

type ErrorKind = HcsSandboxError['kind'];

/**
 * By kind, never by class, so an error class moving onto a kind base (or a new
 * class of an existing kind) gets the right code without a change here. A
 * `Record` over every kind: a new kind does not compile until it has a code.
 */
const BY_KIND: Record<ErrorKind, number> = {
  unavailable: EXIT.unavailable,
  host: EXIT.host,
  'invalid-argument': EXIT.invalid,
  // 1 for now; a later issue moves these to Docker's scheme (125 the CLI
  // failed, 126 cannot run, 127 not found).
  'not-found': EXIT.failure,
  conflict: EXIT.failure,
  'invalid-state': EXIT.failure,
  failure: EXIT.failure,
};

export function exitCodeOf(error: unknown): number {
  // UsageError is the CLI's own (bad argv), not one of the SDK's kinds.
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof HcsSandboxError) return BY_KIND[error.kind] ?? EXIT.failure;
  return EXIT.failure;
}
