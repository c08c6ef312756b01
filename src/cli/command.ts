import type { Command } from 'commander';

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
  /** The plan kinds this module produces and runs. */
  readonly kinds: readonly P['kind'][];
  /** Adds the command's syntax to the program; `accept` receives the parsed plan. */
  register(program: Command, accept: (plan: P) => void): void;
  /** Runs the plan; returns the process exit code. */
  run(plan: P, io: Io): Promise<number>;
}

/** Bad command-line usage: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`expected a positive whole number, got "${value}"`);
  return n;
}

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
