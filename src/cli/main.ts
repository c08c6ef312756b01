#!/usr/bin/env node
import { execute } from './execute.js';
import { exitCodeOf, exitSchemeOf } from './exit-codes.js';
import { printJson } from './json.js';
import { globalFlags, type Plan, readPlan, UsageError } from './plan.js';
import { executeRemote } from './remote-execute.js';
import { errorText, jsonError } from './report.js';

async function main(): Promise<number> {
  const io = { out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) };
  const argv = process.argv.slice(2);
  const flags = globalFlags(argv);
  let plan: Plan | undefined;
  try {
    plan = await readPlan(argv);
    // A remote host (docker's -H / DOCKER_HOST). The runner is small and part of the bin; the
    // client itself is in the SDK, which a verb loads anyway (a dynamic import() here would make
    // the bundle split the verbs' shared modules into chunks that --help then reads too).
    const host = flags.host ?? (process.env.HCS_SANDBOX_HOST || undefined);
    if (host !== undefined)
      return await executeRemote(plan, io, {
        url: host,
        ...(flags.tokenFile !== undefined && { tokenFile: flags.tokenFile }),
      });
    return await execute(plan, io);
  } catch (error) {
    // The one place that decides how errors print (report.ts says how);
    // exit-codes.ts decides the code. With --json the error is the one document on stdout.
    const json = plan !== undefined && 'json' in plan ? plan.json === true : flags.json;
    if (json) printJson(io, jsonError(error));
    else io.err(errorText(error, flags.debug));
    return exitCodeOf(error, exitSchemeOf(plan?.kind, error instanceof UsageError ? error.verb : undefined));
  }
}

process.exitCode = await main();
