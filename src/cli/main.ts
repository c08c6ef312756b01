#!/usr/bin/env node
import { HcsSandboxError } from '../index.js';
import { execute } from './execute.js';
import { exitCodeOf } from './exit-codes.js';
import { parsePlan, UsageError } from './plan.js';

async function main(): Promise<number> {
  const io = { out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) };
  try {
    return await execute(parsePlan(process.argv.slice(2)), io);
  } catch (error) {
    // The one place that decides how errors print; exit-codes.ts decides the code.
    if (error instanceof UsageError) {
      io.err(`hcs-sandbox: ${error.message}\nRun 'hcs-sandbox --help' for usage.\n`);
    } else if (error instanceof HcsSandboxError) {
      io.err(`hcs-sandbox: ${error.message}\n`);
    } else {
      io.err(`hcs-sandbox: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    return exitCodeOf(error);
  }
}

process.exitCode = await main();
