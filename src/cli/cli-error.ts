import type { HcsSandboxError } from '../index.js';
import { loadSdk, sdk } from './sdk.js';

/**
 * The CLI's own refusals, as the SDK's error family. The class extends the
 * SDK's, which the bundled CLI must not import statically (`--help` would
 * load the SDK): it is made on first use, from the SDK a running verb has
 * loaded, once per process so `instanceof` holds.
 */

type CliErrorClass = new (code: string, message: string, options?: { cause?: unknown }) => HcsSandboxError;
let cliErrorClass: CliErrorClass | undefined;

/** A CLI-level refusal (not bad syntax, not the SDK's): one line, exit code 1. Needs the SDK loaded. */
export function cliError(code: string, message: string, options?: { cause?: unknown }): HcsSandboxError {
  cliErrorClass ??= class CliError extends sdk().HcsSandboxError {};
  return new cliErrorClass(code, message, options);
}

/** A Node file-system error (`ENOENT`, ...) as one line instead of a stack. */
export async function fileError(error: unknown, path: string): Promise<unknown> {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    const what =
      code === 'ENOENT'
        ? 'no such file or folder'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code;
    await loadSdk();
    return cliError(code, `${path}: ${what}.`, { cause: error });
  }
  return error;
}
