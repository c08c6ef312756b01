import { beforeAll, describe, expect, it } from 'vitest';
import { formatJobRun } from '../../../src/cli/commands/job.js';
import { parsePlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';

// Flag parsers that read units or lists through the SDK need it loaded (main.ts's readPlan does this).
beforeAll(loadSdk);

const base = {
  kind: 'job-run',
  limits: {},
  name: undefined,
  json: false,
  timeoutMs: undefined,
  stdout: undefined,
  stderr: undefined,
};

describe('job run plan', () => {
  it.each([
    [['job', 'run', '--', 'cmd', '/c', 'echo', 'hi'], { ...base, command: ['cmd', '/c', 'echo', 'hi'] }],
    [
      [
        'job',
        'run',
        '--cpu-rate',
        '12.5%',
        '--memory',
        '512MiB',
        '--job-memory',
        '1GB',
        '--processes',
        '4',
        '--priority',
        'below-normal',
        '--name',
        'ci-build',
        '--timeout',
        '60000',
        '--stdout',
        'out.txt',
        '--stderr',
        'err.txt',
        '--json',
        '--',
        'ping',
        '-n',
        '5',
        '127.0.0.1',
      ],
      {
        ...base,
        command: ['ping', '-n', '5', '127.0.0.1'],
        limits: {
          cpuRatePercent: 12.5,
          processMemory: 512 * 2 ** 20,
          jobMemory: 1e9,
          activeProcesses: 4,
          priorityClass: 'below-normal',
        },
        name: 'ci-build',
        json: true,
        timeoutMs: 60000,
        stdout: 'out.txt',
        stderr: 'err.txt',
      },
    ],
    [
      ['job', 'run', '--memory', '20MB', 'x.exe'],
      { ...base, command: ['x.exe'], limits: { processMemory: 20e6 } },
    ],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it.each([
    [['job', 'run'], /missing required argument 'command'/],
    [
      ['job', 'run', '--cpu-rate', '150', '--', 'x'],
      /option '--cpu-rate <pct>' argument '150' is invalid\. expected a percentage from 0\.01 to 100/,
    ],
    [['job', 'run', '--cpu-rate', '0', '--', 'x'], /--cpu-rate/],
    [
      ['job', 'run', '--memory', '20 parsecs', '--', 'x'],
      /option '--memory <size>' argument '20 parsecs' is invalid\. expected a size/,
    ],
    [['job', 'run', '--memory', '-1', '--', 'x'], /--memory/],
    [['job', 'run', '--processes', '0', '--', 'x'], /positive whole number/],
    [
      ['job', 'run', '--priority', 'low', '--', 'x'],
      /option '--priority <class>' argument 'low' is invalid\. expected one of idle, below-normal/,
    ],
    [['job', 'run', '--bogus', '--', 'x'], /unknown option '--bogus'/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
    expect(() => parsePlan(argv)).toThrow(message);
  });

  it('lists job in help', () => {
    const help = parsePlan(['--help']);
    expect(help.kind === 'help' && help.text).toMatch(/job/);
    const jobHelp = parsePlan(['job', 'run', '--help']);
    expect(jobHelp.kind === 'help' && jobHelp.text).toMatch(/--cpu-rate <pct>/);
  });
});

describe('job run report', () => {
  const accounting = {
    userTimeMs: 31.25,
    kernelTimeMs: 15.625,
    pageFaults: 1200,
    totalProcesses: 2,
    activeProcesses: 0,
    terminatedProcesses: 0,
    io: {
      readOperations: 4,
      writeOperations: 2,
      otherOperations: 10,
      readBytes: 8192,
      writeBytes: 100,
      otherBytes: 0,
    },
    peakProcessMemory: 3 * 2 ** 20,
    peakJobMemory: 5 * 2 ** 20,
  };

  it('prints a table', () => {
    expect(formatJobRun(3, accounting, false)).toBe(
      [
        'JOB                  USED',
        'exit code            3',
        'user time            0.031 s',
        'kernel time          0.016 s',
        'page faults          1200',
        'processes            2 total, 0 active, 0 terminated',
        'peak process memory  3.1 MB',
        'peak job memory      5.2 MB',
        'io read              4 ops, 8.2 KB',
        'io write             2 ops, 100 B',
        'io other             10 ops, 0 B',
        '',
      ].join('\n'),
    );
  });

  it('prints JSON', () => {
    expect(JSON.parse(formatJobRun(0, accounting, true))).toEqual({ exitCode: 0, accounting });
  });
});
