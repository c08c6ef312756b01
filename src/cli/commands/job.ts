import type { JobAccounting, JobLimits, PriorityClass, RunInJobOptions } from '../../jobs/index.js';
import { type CommandModule, flagValue, parsePositiveInt, printTable, UsageError } from '../command.js';
import { printJson } from '../json.js';
import { sdk } from '../sdk.js';
import { parseByteFlag } from '../units.js';

export type JobRunPlan = {
  kind: 'job-run';
  command: string[];
  limits: JobLimits;
  name: string | undefined;
  json: boolean;
  timeoutMs: number | undefined;
  stdout: string | undefined;
  stderr: string | undefined;
};

/**
 * The SDK's PRIORITY_CLASSES as the help prints them, written out so `--help`
 * does not load the SDK; test/unit/cli/job.test.ts checks they agree.
 */
export const PRIORITY_CLASS_NAMES = 'idle, below-normal, normal, above-normal, high, realtime';

const parsePriority = flagValue((value: string): PriorityClass => {
  if (!(sdk().jobs.PRIORITY_CLASSES as string[]).includes(value))
    throw new UsageError(`expected one of ${sdk().jobs.PRIORITY_CLASSES.join(', ')}`);
  return value as PriorityClass;
});

interface JobRunOptions {
  cpuRate?: number;
  memory?: number;
  jobMemory?: number;
  processes?: number;
  priority?: PriorityClass;
  name?: string;
  json: boolean;
  timeout?: number;
  stdout?: string;
  stderr?: string;
}

export const jobCommand: CommandModule<JobRunPlan> = {
  verbs: ['job'],
  kinds: ['job-run'],
  register(program, accept) {
    const job = program
      .command('job')
      .description('run host processes under Windows job objects (limits, accounting)');
    job
      .command('run')
      .description(
        'run a command on this host inside a new job object with these limits; print what it used at exit; exit with its exit code',
      )
      .argument('<command...>', 'the command line to run (after --)')
      .option(
        '--cpu-rate <pct>',
        'hard CPU cap, percent of the whole machine (0.01-100)',
        flagValue((v) => sdk().jobs.parsePercent(v)),
      )
      .option(
        '--memory <size>',
        'memory per process: 512m, 2g (docker units, powers of 1024), 512MiB, 500MB (powers of 1000), or bytes',
        parseByteFlag,
      )
      .option('--job-memory <size>', 'memory of all processes together (units as --memory)', parseByteFlag)
      .option('--processes <n>', 'most processes alive at once', parsePositiveInt)
      .option('--priority <class>', `priority class: ${PRIORITY_CLASS_NAMES}`, parsePriority)
      .option('--name <name>', 'name the job (other tools can open it while it runs)')
      .option('--timeout <ms>', 'terminate the job after this many milliseconds', parsePositiveInt)
      .option('--stdout <file>', "write the command's standard output to this file")
      .option('--stderr <file>', "write the command's standard error to this file")
      .option('--json', 'print the accounting as JSON', false)
      .action((command: string[], opts: JobRunOptions) => {
        const limits: JobLimits = {};
        if (opts.cpuRate !== undefined) limits.cpuRatePercent = opts.cpuRate;
        if (opts.memory !== undefined) limits.processMemory = opts.memory;
        if (opts.jobMemory !== undefined) limits.jobMemory = opts.jobMemory;
        if (opts.processes !== undefined) limits.activeProcesses = opts.processes;
        if (opts.priority !== undefined) limits.priorityClass = opts.priority;
        accept({
          kind: 'job-run',
          command,
          limits,
          name: opts.name,
          json: opts.json,
          timeoutMs: opts.timeout,
          stdout: opts.stdout,
          stderr: opts.stderr,
        });
      });
  },
  async run(plan, io) {
    const options: RunInJobOptions = {};
    if (plan.name !== undefined) options.name = plan.name;
    if (plan.timeoutMs !== undefined) options.timeoutMs = plan.timeoutMs;
    if (plan.stdout !== undefined || plan.stderr !== undefined) {
      options.stdio = {};
      if (plan.stdout !== undefined) options.stdio.stdout = { file: plan.stdout };
      if (plan.stderr !== undefined) options.stdio.stderr = { file: plan.stderr };
    }
    const result = await sdk().jobs.runInJob(plan.command, plan.limits, options);
    io.out(formatJobRun(result.exitCode, result.accounting, plan.json));
    return result.exitCode;
  },
};

/** The report printed after `job run` (pure). */
export function formatJobRun(exitCode: number, accounting: JobAccounting, json: boolean): string {
  let text = '';
  const io = {
    out: (s: string) => {
      text += s;
    },
    err: () => {},
  };
  if (json) {
    printJson(io, { exitCode, accounting });
    return text;
  }
  printTable(io, [
    ['JOB', 'USED'],
    ['exit code', String(exitCode)],
    ...sdk().jobs.accountingRows(accounting),
  ]);
  return text;
}
