import type { Io } from './command.js';

/**
 * The one JSON printer of the CLI: with `--json` a verb prints exactly one
 * document on stdout (indented), and nothing else there. A failure prints
 * `{"error": {...}}` through the same printer (main.ts).
 */
export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A stream of documents, one per line (NDJSON): `stats --json`, one document
 * per reading, so a reader can act on each as it arrives.
 */
export function printJsonLine(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value)}\n`);
}
