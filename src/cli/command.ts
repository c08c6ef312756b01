import { type Command, InvalidArgumentError as CommanderArgumentError } from 'commander';
import { sdkIfLoaded } from './sdk.js';

/** Where a command writes. Tests pass an in-memory one. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/**
 * One CLI command (or group): how argv becomes its plan, and how its plan runs
 * through the public SDK. Each lives in `commands/` and is listed in
 * `commands/index.ts`.
 */
export interface CommandModule<P extends { kind: string }> {
  /**
   * The top-level verbs (and aliases) `register` adds. A command line that
   * names one of them registers only this module (plan.ts): building every
   * verb's syntax was most of the parse (issue 16, cold start). A unit test
   * holds this list to what `register` adds.
   */
  readonly verbs: readonly string[];
  /** Its plan is made from every verb's syntax (`completion`): parsing it registers them all. */
  readonly readsEveryVerb?: true;
  /** The plan kinds this module produces and runs. */
  readonly kinds: readonly P['kind'][];
  /**
   * Kinds whose run loads what it needs itself rather than the whole SDK
   * (execute.ts): `ls`, for its cold start. Their run must not call `sdk()`.
   */
  readonly withoutSdk?: readonly P['kind'][];
  /** Adds the command's syntax to the program; `accept` receives the parsed plan. */
  register(program: Command, accept: (plan: P) => void): void;
  /** Runs the plan; returns the process exit code. */
  run(plan: P, io: Io): Promise<number>;
}

/**
 * Bad command-line usage: printed with the usage hint naming the verb's own
 * help (`verb` is its path, `image pull`, once the parser knows it).
 */
export class UsageError extends Error {
  override name = 'UsageError';
  /** For `--json` and scripts: bad usage has one code and its own kind. */
  readonly code = 'USAGE';
  readonly kind = 'usage';
  verb: string | undefined;
}

/**
 * Wraps a flag's value parser so a refusal names the flag: commander turns
 * its own InvalidArgumentError into "option '--memory <size>' argument 'x' is
 * invalid. <why>", so every parser may throw our UsageError or the SDK's
 * InvalidArgumentError and still name the flag it was given to.
 */
export function flagValue<T>(parse: (value: string) => T): (value: string, previous?: unknown) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      // Only a parser that called the SDK can throw its errors, so the SDK is loaded then.
      const sdk = sdkIfLoaded();
      // The SDK's refusal names its own field; the flag's name is what the user typed.
      if (sdk && error instanceof sdk.InvalidArgumentError)
        throw new CommanderArgumentError(`expected ${error.allowed}`);
      if (error instanceof UsageError || (sdk && error instanceof sdk.HcsSandboxError))
        throw new CommanderArgumentError(error.message);
      throw error;
    }
  };
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export const parsePositiveInt = flagValue((value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError('expected a positive whole number');
  return n;
});

/** Prints rows as an aligned table (header first). */
export function printTable(io: Io, rows: string[][]): void {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  for (const row of rows)
    io.out(
      `${row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
}
