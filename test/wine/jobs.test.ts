import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, runInWine, runOk } from './harness.js';

// Job objects through the product's compiled code in node.exe under Wine, with
// Wine's own kernel32 (nothing simulated). Wine implements job objects only in
// part: the tests assert what Wine does, and name what only Windows can show
// (docs/jobs.md, "What Wine does not enforce").

type Layout = Record<string, { size: number; align: number; fields: Record<string, number> }>;

interface Accounting {
  userTimeMs: number;
  totalProcesses: number;
  activeProcesses: number;
  terminatedProcesses: number;
  io: unknown;
  peakProcessMemory: number;
}
interface Failure {
  name: string;
  code?: string;
  errorCode?: number;
  functionName?: string;
  message: string;
}

describe('struct layouts', () => {
  it("koffi's sizeof/alignof/offsetof match the SDK headers field by field", async () => {
    const build = process.env.HCS_TEST_HOST_BUILD ?? join(repo, '.cache', 'test-host', 'build');
    const dir = mkdtempSync(join(tmpdir(), 'hcs-layout-'));
    // No pipe for Wine to inherit: a Wine service started on the way would hold it
    // open after the program exits, and the call would wait for it.
    execFileSync('bash', ['-c', `wine "${build}/jobs-layout.exe" > "${dir}/layout.json" 2>/dev/null`], {
      env: process.env,
      timeout: 60_000,
      stdio: 'ignore',
    });
    const c = JSON.parse(readFileSync(join(dir, 'layout.json'), 'utf8')) as Layout & { _local: string[] };
    const koffi = await runOk<Layout>('jobs-layout.mjs');
    const { _local: local, ...structs } = c;
    expect(Object.keys(koffi).sort()).toEqual(Object.keys(structs).sort());
    for (const [name, layout] of Object.entries(structs)) {
      expect(koffi[name], name).toEqual(layout);
    }
    // Not in MinGW-w64's headers: declared in layout.c from the SDK definition.
    expect(local).toEqual([
      'JOBOBJECT_IO_RATE_CONTROL_INFORMATION',
      'JOBOBJECT_CPU_RATE_CONTROL_INFORMATION.MinRate',
      'JOBOBJECT_CPU_RATE_CONTROL_INFORMATION.MaxRate',
    ]);
    // And the x64 values HCS-NOTES §1.6 gives.
    expect(koffi.JOBOBJECT_BASIC_LIMIT_INFORMATION?.size).toBe(64);
    expect(koffi.JOBOBJECT_EXTENDED_LIMIT_INFORMATION?.fields).toMatchObject({
      IoInfo: 64,
      ProcessMemoryLimit: 112,
      PeakJobMemoryUsed: 136,
    });
    expect(koffi.JOBOBJECT_BASIC_ACCOUNTING_INFORMATION?.size).toBe(48);
    expect(koffi.JOBOBJECT_CPU_RATE_CONTROL_INFORMATION).toMatchObject({ size: 8, fields: { CpuRate: 4 } });
    expect(koffi.JOBOBJECT_BASIC_PROCESS_ID_LIST).toMatchObject({ size: 16, fields: { ProcessIdList: 8 } });
    expect(koffi.STARTUPINFOW?.size).toBe(104);
    expect(koffi.PROCESS_INFORMATION?.size).toBe(24);
  });
});

describe('Job', () => {
  it('creates and opens by name; a taken name, a missing name and a closed job fail with typed errors', async () => {
    const r = await runOk<{
      openedName: string;
      duplicate: Failure;
      missing: Failure;
      badName: Failure;
      afterClose: Failure;
      reopen: Failure;
    }>('jobs-api.mjs', ['named']);
    expect(r.openedName).toMatch(/^hcs-jobs-\d+-named$/);
    expect(r.duplicate).toMatchObject({
      name: 'Win32CallError',
      functionName: 'CreateJobObjectW',
      errorCode: 183,
    });
    expect(r.missing).toMatchObject({ name: 'Win32CallError', functionName: 'OpenJobObjectW', errorCode: 2 });
    expect(r.badName).toMatchObject({ name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT' });
    expect(r.afterClose).toMatchObject({ name: 'JobClosedError' });
    // The name goes with the last handle.
    expect(r.reopen).toMatchObject({ errorCode: 2 });
  });

  it('sets limits; Wine accepts the extended limits but reports none back, and refuses CPU and IO rate control', async () => {
    const r = await runOk<{
      set: Failure | null;
      queried: Record<string, unknown>;
      cpuSet: Failure;
      weightSet: Failure;
      cpuQueried: { error: Failure };
      ioSet: Failure;
      invalid: Failure;
    }>('jobs-api.mjs', ['limits']);
    expect(r.set).toBeNull();
    // Windows reads back the flags and values set (unverified here: only real
    // Windows can show it). Wine 8 answers the query with zeros.
    expect(r.queried).toEqual({
      limitFlags: 0,
      processMemory: null,
      jobMemory: null,
      activeProcesses: null,
      priorityClass: null,
      killOnJobClose: false,
      breakawayOk: false,
      silentBreakawayOk: false,
    });
    // JobObjectCpuRateControlInformation is not implemented by Wine 8.
    expect(r.cpuSet).toMatchObject({
      name: 'Win32CallError',
      functionName: 'SetInformationJobObject',
      errorCode: 87,
    });
    expect(r.weightSet).toMatchObject({ errorCode: 87 });
    expect(r.cpuQueried.error).toMatchObject({ name: 'Win32CallError', errorCode: 87 });
    // Wine's kernel32 does not export SetIoRateControlInformationJobObject.
    expect(r.ioSet).toMatchObject({
      name: 'FunctionUnavailableError',
      functionName: 'SetIoRateControlInformationJobObject',
    });
    expect(r.invalid).toMatchObject({
      name: 'InvalidArgumentError',
      message: expect.stringMatching(/cpuRatePercent/),
    });
  });

  it('assigns a running process by pid, lists and counts it, and terminates it with the exit code', async () => {
    const r = await runOk<{
      pid: number;
      before: boolean;
      after: boolean;
      ids: number[];
      accounting: Accounting;
      ended: { exited: boolean; code?: number };
      afterTerminate: Accounting;
    }>('jobs-api.mjs', ['assign']);
    expect(r.before).toBe(false);
    expect(r.after).toBe(true);
    expect(r.ids).toEqual([r.pid]);
    expect(r.accounting).toMatchObject({ totalProcesses: 1, activeProcesses: 1 });
    expect(r.ended).toEqual({ exited: true, code: 42 });
    expect(r.afterTerminate).toMatchObject({ totalProcesses: 1, activeProcesses: 0 });
    // Wine reports no CPU times and no IO counters (JobObjectBasicAndIoAccountingInformation
    // is not implemented: the product falls back to basic accounting, io null).
    expect(r.afterTerminate).toMatchObject({ userTimeMs: 0, io: null, terminatedProcesses: 0 });
  });

  it('kill-on-close ends the processes with the last handle; without it they survive', async () => {
    const r = await runOk<{ killed: { exited: boolean }; kept: { exited: boolean } }>('jobs-api.mjs', [
      'kill-on-close',
    ]);
    expect(r.killed.exited).toBe(true);
    expect(r.kept.exited).toBe(false);
  });
});

describe('runInJob', () => {
  it("returns the command's exit code and accounting; writes stdio files; times out by terminating the job", async () => {
    const r = await runOk<{
      exit: { exitCode: number; processId: number; accounting: Accounting };
      echo: { exitCode: number; text: string };
      timeout: { name: string; timedOut: boolean; exitCode: number; ms: number };
      badCommand: Failure;
    }>('jobs-api.mjs', ['run']);
    expect(r.exit.exitCode).toBe(7);
    expect(r.exit.processId).toBeGreaterThan(0);
    expect(r.exit.accounting).toMatchObject({ totalProcesses: 1, activeProcesses: 0 });
    expect(r.echo).toEqual({ exitCode: 0, text: 'hello from the job\r\n' });
    expect(r.timeout).toMatchObject({ name: 'JobRunAbortedError', timedOut: true, exitCode: 1 });
    expect(r.timeout.ms).toBeLessThan(5000);
    expect(r.badCommand).toMatchObject({
      name: 'Win32CallError',
      functionName: 'CreateProcessW',
      errorCode: 2,
    });
  });

  it('Wine does not enforce memory, active-process or priority-class limits (Windows would)', async () => {
    const r = await runOk<{
      memory: { exitCode: number };
      jobMemory: { exitCode: number };
      processes: { exitCode: number; accounting: Accounting };
      priority: { exitCode: number; seen: number; afterSet: number };
    }>('jobs-api.mjs', ['enforcement'], { timeoutMs: 120_000 });
    // 200 MiB committed under a 64 MiB process limit, and under a 64 MiB job limit: runs to the end.
    expect(r.memory.exitCode).toBe(0);
    expect(r.jobMemory.exitCode).toBe(0);
    // A second process under activeProcesses 1: it starts and its exit code comes through.
    expect(r.processes.exitCode).toBe(3);
    expect(r.processes.accounting.totalProcesses).toBe(2);
    // priorityClass 'idle': the process still runs at normal priority (0); the
    // control shows getPriority does see a class the process sets itself (10).
    expect(r.priority).toEqual({ exitCode: 0, seen: 0, afterSet: 10 });
  });
});

describe('hcs-sandbox job run (CLI)', () => {
  it('exits with the command exit code and prints the accounting as JSON', async () => {
    const run = await runInWine('dist/cli/main.js', [
      'job',
      'run',
      '--json',
      '--memory',
      '64MiB',
      '--processes',
      '4',
      '--',
      'cmd',
      '/c',
      'exit',
      '5',
    ]);
    expect(run.exitCode, run.stderr).toBe(5);
    const report = JSON.parse(run.stdout) as { exitCode: number; accounting: Accounting };
    expect(report.exitCode).toBe(5);
    expect(report.accounting).toMatchObject({ totalProcesses: 1, activeProcesses: 0, io: null });
  });

  it("prints the command's output, then a table", async () => {
    const run = await runInWine('dist/cli/main.js', ['job', 'run', '--', 'cmd', '/c', 'echo', 'hello']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^hello\s*\r?\n/);
    expect(run.stdout).toMatch(/^exit code\s+0$/m);
    expect(run.stdout).toMatch(/^processes\s+1 total, 0 active, 0 terminated$/m);
    expect(run.stdout).toMatch(/^io\s+not reported by this host$/m);
  });

  it("refuses bad limits and the CPU cap Wine cannot set with 125 (job run exits with its command's code, so its own failures are docker's 125)", async () => {
    const usage = await runInWine('dist/cli/main.js', [
      'job',
      'run',
      '--cpu-rate',
      '150',
      '--',
      'cmd',
      '/c',
      'exit',
    ]);
    expect(usage.exitCode).toBe(125);
    expect(usage.stderr).toMatch(
      /option '--cpu-rate <pct>' argument '150' is invalid\. expected a percentage from 0\.01 to 100/,
    );
    expect(usage.stderr).toContain("Run 'hcs-sandbox job run --help' for usage.");
    const cpu = await runInWine('dist/cli/main.js', [
      'job',
      'run',
      '--cpu-rate',
      '50',
      '--',
      'cmd',
      '/c',
      'exit',
    ]);
    expect(cpu.exitCode).toBe(125);
    expect(cpu.stderr).toMatch(/SetInformationJobObject failed with Win32 error 87/);
  });
});
