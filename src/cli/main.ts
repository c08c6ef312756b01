#!/usr/bin/env node
import { HcsError, HcsSandboxError, HcsUnavailableError, InvalidArgumentError } from '../index.js';
import { execute } from './execute.js';
import { parsePlan, UsageError } from './plan.js';

/**
 * Exit codes (docs/cli.md): a command's own exit code for `raw run`; otherwise
 * 0 success, 1 unexpected error, 2 usage, 3 HCS unavailable on this machine,
 * 4 HCS refused the request, 5 invalid input.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, unavailable: 3, hcs: 4, invalid: 5 } as const;

async function main(): Promise<number> {
  const io = { out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) };
  try {
    return await execute(parsePlan(process.argv.slice(2)), io);
  } catch (error) {
    // The one place that decides how errors print and which exit code results.
    if (error instanceof UsageError) {
      io.err(`hcs-sandbox: ${error.message}\nRun 'hcs-sandbox --help' for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof HcsUnavailableError) {
      io.err(`hcs-sandbox: ${error.message}\n`);
      return EXIT.unavailable;
    }
    if (error instanceof HcsError) {
      io.err(`hcs-sandbox: ${error.message}\n`);
      return EXIT.hcs;
    }
    if (error instanceof InvalidArgumentError) {
      io.err(`hcs-sandbox: ${error.message}\n`);
      return EXIT.invalid;
    }
    if (error instanceof HcsSandboxError) {
      io.err(`hcs-sandbox: ${error.message}\n`);
      return EXIT.failure;
    }
    io.err(`hcs-sandbox: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.failure;
  }
}

process.exitCode = await main();
