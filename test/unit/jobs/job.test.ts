import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  accountingRows,
  buildEnvironment,
  Job,
  JobClosedError,
  JobRunAbortedError,
  runInJob,
  Win32CallError,
} from '../../../src/jobs/index.js';
import { FunctionUnavailableError, setJobsNative } from '../../../src/native/index.js';
import { quoteWindowsArgs } from '../../../src/schema/index.js';
import { FakeJobsNative } from './fake-jobs-native.js';

let fake: FakeJobsNative;
beforeEach(() => {
  fake = new FakeJobsNative();
  setJobsNative(fake);
});
afterEach(() => setJobsNative(undefined));

describe('Job', () => {
  it('creates, limits, assigns by pid, and closes every handle it opened', () => {
    const job = Job.create({ name: 'build-42' });
    job.setLimits({ killOnJobClose: true });
    job.setLimits({ cpuRatePercent: 20, processMemory: '64MiB' });
    job.assign(4321);
    job.close();
    job.close();
    expect(fake.open.size).toBe(0);
    expect(fake.fns()).toEqual([
      'CreateJobObjectW',
      'SetInformationJobObject:9',
      'SetInformationJobObject:9',
      'SetInformationJobObject:15',
      'OpenProcess',
      'AssignProcessToJobObject',
      'CloseHandle',
      'CloseHandle',
    ]);
    // The second extended write keeps kill-on-close (limits merge).
    const last = fake.calls.filter((c) => c.fn === 'SetInformationJobObject:9')[1]?.args[1] as {
      basic: { limitFlags: number };
    };
    expect(last.basic.limitFlags).toBe(0x2000 | 0x100);
  });

  it('validates before any native call', () => {
    const job = Job.create();
    const before = fake.calls.length;
    expect(() => job.setLimits({ cpuRatePercent: 120 })).toThrow(InvalidArgumentError);
    expect(() => job.assign(-1)).toThrow(/Invalid process/);
    expect(() => job.terminate(-2)).toThrow(/Invalid exitCode/);
    expect(() => Job.create({ name: 'a\\b' })).toThrow(/Invalid name/);
    expect(() => Job.create({ name: '' })).toThrow(/Invalid name/);
    expect(fake.calls.length).toBe(before);
    expect(() => Job.create({ name: 'Global\\ok' })).not.toThrow();
  });

  it('refuses IO limits where kernel32 lacks SetIoRateControlInformationJobObject, changing nothing', () => {
    fake.ioRate = false;
    const job = Job.create();
    expect(() => job.setLimits({ ioMaxIops: 100, killOnJobClose: true })).toThrow(FunctionUnavailableError);
    expect(fake.fns()).toEqual(['CreateJobObjectW']);
  });

  it('creating an existing name fails and closes the extra handle; open finds it', () => {
    Job.create({ name: 'shared' });
    expect(() => Job.create({ name: 'shared' })).toThrow(/ERROR_ALREADY_EXISTS/);
    expect(Job.open('shared').name).toBe('shared');
    expect(() => Job.open('missing')).toThrow(Win32CallError);
  });

  it('throws JobClosedError after close', () => {
    const job = Job.create();
    job.close();
    expect(() => job.accounting()).toThrow(JobClosedError);
    expect(job.closed).toBe(true);
  });

  it('reads limits back', () => {
    const job = Job.create();
    job.setLimits({ jobMemory: '128MiB', activeProcesses: 2, priorityClass: 'high', killOnJobClose: true });
    expect(job.queryLimits()).toEqual({
      limitFlags: 0x200 | 0x8 | 0x20 | 0x2000,
      processMemory: null,
      jobMemory: 128 * 2 ** 20,
      activeProcesses: 2,
      priorityClass: 'high',
      killOnJobClose: true,
      breakawayOk: false,
      silentBreakawayOk: false,
    });
    job.setLimits({ cpuRatePercent: 33.33 });
    expect(job.queryCpuRate()).toEqual({ kind: 'hard-cap', percent: 33.33 });
    job.setLimits({ cpuWeight: 7 });
    expect(job.queryCpuRate()).toEqual({ kind: 'weight', weight: 7 });
  });

  it('accounting uses IO accounting, and falls back where the class is not implemented', () => {
    const job = Job.create();
    expect(job.accounting()).toMatchObject({
      userTimeMs: 1500,
      kernelTimeMs: 500,
      pageFaults: 42,
      io: { writeBytes: 8192 },
    });
    fake.failures.set('QueryInformationJobObject:8', 1);
    expect(job.accounting()).toMatchObject({ userTimeMs: 1500, totalProcesses: 2, io: null });
    fake.failures.set('QueryInformationJobObject:8', 5);
    expect(() => job.accounting()).toThrow(/ERROR_ACCESS_DENIED/);
  });

  it('disposes with await using', async () => {
    {
      await using job = Job.create();
      job.processIds();
    }
    expect(fake.open.size).toBe(0);
  });
});

describe('runInJob', () => {
  it('creates suspended, assigns, then resumes; closes everything', async () => {
    fake.exitCode = 7;
    const result = await runInJob(['cmd', '/c', 'exit 7'], { processMemory: '64MiB' });
    expect(result.exitCode).toBe(7);
    expect(result.accounting.totalProcesses).toBe(2);
    const order = fake
      .fns()
      .filter((f) =>
        ['CreateProcessW', 'AssignProcessToJobObject', 'ResumeThread', 'WaitForSingleObject'].includes(f),
      );
    expect(order.slice(0, 4)).toEqual([
      'CreateProcessW',
      'AssignProcessToJobObject',
      'ResumeThread',
      'WaitForSingleObject',
    ]);
    const limits = fake.calls.find((c) => c.fn === 'SetInformationJobObject:9')?.args[1] as {
      basic: { limitFlags: number };
    };
    expect(limits.basic.limitFlags).toBe(0x2000 | 0x100);
    expect(fake.open.size).toBe(0);
    const request = fake.calls.find((c) => c.fn === 'CreateProcessW')?.args[0] as { commandLine: string };
    expect(request.commandLine).toBe('cmd /c "exit 7"');
  });

  it('terminates the process when it cannot be assigned', async () => {
    fake.failures.set('AssignProcessToJobObject', 5);
    await expect(runInJob('x.exe')).rejects.toThrow(/AssignProcessToJobObject failed/);
    expect(fake.fns()).toContain('TerminateProcess');
    expect(fake.fns()).not.toContain('ResumeThread');
    expect(fake.open.size).toBe(0);
  });

  it('times out: terminates the job and throws with accounting', async () => {
    fake.waitSignalled = false;
    const error = await runInJob('ping -n 100 127.0.0.1', {}, { timeoutMs: 20 }).catch((e) => e);
    expect(error).toBeInstanceOf(JobRunAbortedError);
    expect(error.timedOut).toBe(true);
    expect(fake.fns()).toContain('TerminateJobObject');
    expect(fake.open.size).toBe(0);
  });

  it('opens stdio files and the null device', async () => {
    await runInJob('x', {}, { stdio: { stdin: 'ignore', stdout: { file: 'C:\\o.txt', append: true } } });
    expect(fake.calls.filter((c) => c.fn === 'CreateFileW').map((c) => c.args)).toEqual([
      ['NUL', 'read'],
      ['C:\\o.txt', 'append'],
    ]);
    expect(fake.open.size).toBe(0);
  });

  it.each([
    [[], {}, /Invalid (commandLine|argv)/],
    ['  ', {}, /Invalid commandLine/],
    ['x', { timeoutMs: 0 }, /Invalid timeoutMs/],
    ['x', { stdio: { stdout: 'pipe' } }, /Invalid stdio.stdout/],
    ['x', { env: { 'A=B': 'c' } }, /Invalid env.A=B/],
  ])('refuses bad input before any native call: %j %j', async (cmd, options, message) => {
    await expect(runInJob(cmd as string, {}, options as object)).rejects.toThrow(message);
    expect(fake.calls).toEqual([]);
  });

  it('refuses bad limits before any native call', async () => {
    await expect(runInJob('x', { cpuRatePercent: 0 })).rejects.toThrow(/cpuRatePercent/);
    expect(fake.calls).toEqual([]);
  });
});

describe('helpers', () => {
  it.each([
    [['a', 'b c'], 'a "b c"'],
    [['say', 'he said "hi"'], 'say "he said \\"hi\\""'],
    [['prog', 'C:\\Program Files\\x\\'], 'prog "C:\\Program Files\\x\\\\"'],
    [['', 'x'], '"" x'],
    [['a\\\\b'], 'a\\\\b'],
  ])('quoteWindowsArgs(%j) = %s', (args, line) => {
    expect(quoteWindowsArgs(args)).toBe(line);
  });

  it('builds environments case-insensitively', () => {
    expect(buildEnvironment({ Path: 'C:\\w' }, undefined, true)).toBeNull();
    expect(buildEnvironment({ Path: 'C:\\w', TEMP: 't' }, { PATH: 'C:\\x', TEMP: undefined }, true)).toEqual([
      'PATH=C:\\x',
    ]);
    expect(buildEnvironment({ A: '1' }, { B: '2' }, false)).toEqual(['B=2']);
  });

  it('formats accounting rows', () => {
    const rows = accountingRows({
      userTimeMs: 1500,
      kernelTimeMs: 250,
      pageFaults: 3,
      totalProcesses: 2,
      activeProcesses: 0,
      terminatedProcesses: 0,
      io: null,
      peakProcessMemory: 5 * 2 ** 20,
      peakJobMemory: 0,
    });
    expect(rows).toEqual([
      ['user time', '1.500 s'],
      ['kernel time', '0.250 s'],
      ['page faults', '3'],
      ['processes', '2 total, 0 active, 0 terminated'],
      ['peak process memory', '5.2 MB'],
      ['peak job memory', 'not reported'],
      ['io', 'not reported by this host'],
    ]);
  });
});
