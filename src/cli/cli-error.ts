import { HcsSandboxError } from '../index.js';

/**
 * The CLI's own refusals, as the SDK's error family. Its own module because
 * the class extends the SDK's, so importing it loads the SDK: only code that
 * runs a verb imports it (through `import()`, see sdk.ts).
 */

/** A CLI-level refusal (not bad syntax, not the SDK's): one line, exit code 1. */
export class CliError extends HcsSandboxError {}

/** A Node file-system error (`ENOENT`, ...) as one line instead of a stack. */
export function fileError(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    const what =
      code === 'ENOENT'
        ? 'no such file or folder'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code;
    return new CliError(code, `${path}: ${what}.`, { cause: error });
  }
  return error;
}
