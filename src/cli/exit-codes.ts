import type { HcsSandboxError } from '../index.js';
import { UsageError } from './command.js';
import { isSdkError } from './sdk.js';

/**
 * The process exit code an error gives (docs/cli.md, "Exit codes"), docker's
 * scheme: a verb that runs a command (`run`, `exec`, ...) exits with the
 * command's own code, so everything hcs-sandbox itself says there is 125 and
 * up (125 it failed, 126 the command cannot be executed, 127 not found); the
 * other verbs exit 1 when they fail and 2 on bad usage. A command's own exit
 * code is not an error and does not come through here.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  toolFailed: 125,
  cannotExecute: 126,
  commandNotFound: 127,
} as const;

/** `command`: the verb runs a command whose exit code it returns; `verb`: any other. */
export type ExitScheme = 'command' | 'verb';

type ErrorKind = HcsSandboxError['kind'];

/** Plans (and verbs, for a usage error) whose exit code is a command's own. */
const COMMAND_PLANS = new Set(['sandbox-run', 'sandbox-exec', 'raw-run', 'job-run', 'sandbox-start-wsb']);
const COMMAND_VERBS = new Set(['run', 'exec', 'raw run', 'job run']);

/** The scheme of a plan kind (`sandbox-run`) or, when parsing failed, of a verb (`run`). */
export function exitSchemeOf(planKind: string | undefined, verb?: string): ExitScheme {
  if (planKind !== undefined) return COMMAND_PLANS.has(planKind) ? 'command' : 'verb';
  return verb !== undefined && COMMAND_VERBS.has(verb) ? 'command' : 'verb';
}

/**
 * The other verbs, by kind (never by class, so a new class of an existing
 * kind gets the right code without a change here). Docker exits 1 for every
 * failure the daemon reports; the kind itself is in `--json`'s error. A
 * `Record` over every kind: a new kind does not compile until it has a code.
 */
const BY_KIND: Record<ErrorKind, number> = {
  'not-found': EXIT.failure,
  conflict: EXIT.failure,
  'invalid-state': EXIT.failure,
  'invalid-argument': EXIT.failure,
  unavailable: EXIT.failure,
  host: EXIT.failure,
  failure: EXIT.failure,
};

/**
 * Win32 errors that mean the program is not there (ERROR_FILE_NOT_FOUND 2,
 * ERROR_PATH_NOT_FOUND 3) or cannot be run (ERROR_ACCESS_DENIED 5,
 * ERROR_BAD_EXE_FORMAT 193), as CreateProcess reports them; HCS returns them
 * as HRESULTs (0x8007xxxx) from HcsCreateProcess. Docker maps the same
 * failures of the container's process to 127 and 126 (docker run reference,
 * "Exit status").
 */
const NOT_FOUND_WIN32 = new Set([2, 3]);
const CANNOT_EXECUTE_WIN32 = new Set([5, 193]);

/** The Win32 error of a failed process start, if `error` (or a cause) is one. */
function processStartError(error: unknown): number | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (
      isSdkError(e, (l) => l.hcs.HcsError) &&
      e.operation === 'HcsCreateProcess' &&
      e.hresult >>> 16 === 0x8007
    )
      return e.hresult & 0xffff;
    if (isSdkError(e, (l) => l.jobs.Win32CallError) && e.functionName === 'CreateProcessW')
      return e.errorCode;
  }
  return undefined;
}

export function exitCodeOf(error: unknown, scheme: ExitScheme = 'verb'): number {
  if (scheme === 'command') {
    const win32 = processStartError(error);
    if (win32 !== undefined && NOT_FOUND_WIN32.has(win32)) return EXIT.commandNotFound;
    if (win32 !== undefined && CANNOT_EXECUTE_WIN32.has(win32)) return EXIT.cannotExecute;
    return EXIT.toolFailed;
  }
  // UsageError is the CLI's own (bad argv), not one of the SDK's kinds.
  if (error instanceof UsageError) return EXIT.usage;
  if (isSdkError(error, (l) => l.HcsSandboxError)) return BY_KIND[error.kind] ?? EXIT.failure;
  return EXIT.failure;
}
