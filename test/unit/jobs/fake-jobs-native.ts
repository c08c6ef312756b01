import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CpuRateControlInformation,
  type ExtendedLimitInformation,
  type JobsNativeApi,
  Win32CallError,
  type Win32Handle,
} from '../../../src/native/index.js';

type Call = { fn: string; args: unknown[] };

/** An in-memory kernel32 job surface: records calls and open handles. */
export class FakeJobsNative implements JobsNativeApi {
  calls: Call[] = [];
  open = new Set<bigint>();
  #next = 0x100n;
  extended = new Map<bigint, ExtendedLimitInformation>();
  cpu = new Map<bigint, CpuRateControlInformation>();
  names = new Map<string, bigint>();
  ioRate = true;
  /** Calls that fail: function name -> Win32 error code. */
  failures = new Map<string, number>();
  exitCode = 0;

  #handle(): Win32Handle {
    const h = this.#next++;
    this.open.add(h);
    return h as Win32Handle;
  }
  #rec(fn: string, ...args: unknown[]) {
    this.calls.push({ fn, args });
    const code = this.failures.get(fn);
    if (code !== undefined) throw new Win32CallError(fn, code);
  }
  createJobObject(name: string | null) {
    this.#rec('CreateJobObjectW', name);
    const existing = name === null ? undefined : this.names.get(name);
    const handle = this.#handle();
    if (name !== null && existing === undefined) this.names.set(name, handle);
    return { handle, alreadyExisted: existing !== undefined };
  }
  openJobObject(name: string, access: number) {
    this.#rec('OpenJobObjectW', name, access);
    if (!this.names.has(name)) throw new Win32CallError('OpenJobObjectW', 2);
    return this.#handle();
  }
  assignProcessToJobObject(job: Win32Handle, process: Win32Handle) {
    this.#rec('AssignProcessToJobObject', job, process);
  }
  terminateJobObject(job: Win32Handle, exitCode: number) {
    this.#rec('TerminateJobObject', job, exitCode);
    this.waitSignalled = true;
    this.exitCode = exitCode;
  }
  isProcessInJob(process: Win32Handle, job: Win32Handle | null) {
    this.#rec('IsProcessInJob', process, job);
    return true;
  }
  setExtendedLimitInformation(job: Win32Handle, info: ExtendedLimitInformation) {
    this.#rec('SetInformationJobObject:9', job, info);
    this.extended.set(job, info);
  }
  queryExtendedLimitInformation(job: Win32Handle): ExtendedLimitInformation {
    this.#rec('QueryInformationJobObject:9', job);
    return (
      this.extended.get(job) ?? {
        basic: {
          perProcessUserTimeLimit: 0n,
          perJobUserTimeLimit: 0n,
          limitFlags: 0,
          minimumWorkingSetSize: 0,
          maximumWorkingSetSize: 0,
          activeProcessLimit: 0,
          affinity: 0n,
          priorityClass: 0,
          schedulingClass: 0,
        },
        io: {
          readOperationCount: 0,
          writeOperationCount: 0,
          otherOperationCount: 0,
          readTransferCount: 0,
          writeTransferCount: 0,
          otherTransferCount: 0,
        },
        processMemoryLimit: 0,
        jobMemoryLimit: 0,
        peakProcessMemoryUsed: 0,
        peakJobMemoryUsed: 0,
      }
    );
  }
  setCpuRateControlInformation(job: Win32Handle, info: CpuRateControlInformation) {
    this.#rec('SetInformationJobObject:15', job, info);
    this.cpu.set(job, info);
  }
  queryCpuRateControlInformation(job: Win32Handle) {
    this.#rec('QueryInformationJobObject:15', job);
    return this.cpu.get(job) ?? { controlFlags: 0, value: 0 };
  }
  queryBasicAccountingInformation(job: Win32Handle) {
    this.#rec('QueryInformationJobObject:1', job);
    return {
      totalUserTime: 15_000_000n,
      totalKernelTime: 5_000_000n,
      thisPeriodTotalUserTime: 0n,
      thisPeriodTotalKernelTime: 0n,
      totalPageFaultCount: 42,
      totalProcesses: 2,
      activeProcesses: 0,
      totalTerminatedProcesses: 0,
    };
  }
  queryBasicAndIoAccountingInformation(job: Win32Handle) {
    this.#rec('QueryInformationJobObject:8', job);
    return {
      ...this.queryBasicAccountingInformation(job),
      io: {
        readOperationCount: 1,
        writeOperationCount: 2,
        otherOperationCount: 3,
        readTransferCount: 4096,
        writeTransferCount: 8192,
        otherTransferCount: 0,
      },
    };
  }
  queryProcessIdList(job: Win32Handle) {
    this.#rec('QueryInformationJobObject:3', job);
    return { assigned: 2, processIds: [10, 11] };
  }
  setIoRateControlInformation(job: Win32Handle, info: unknown) {
    this.#rec('SetIoRateControlInformationJobObject', job, info);
  }
  hasIoRateControl() {
    return this.ioRate;
  }
  openProcess(pid: number, access: number) {
    this.#rec('OpenProcess', pid, access);
    return this.#handle();
  }
  createSuspendedProcess(request: unknown) {
    this.#rec('CreateProcessW', request);
    return { process: this.#handle(), thread: this.#handle(), processId: 1234, threadId: 5678 };
  }
  terminateProcess(process: Win32Handle, exitCode: number) {
    this.#rec('TerminateProcess', process, exitCode);
  }
  resumeThread(thread: Win32Handle) {
    this.#rec('ResumeThread', thread);
    return 1;
  }
  waitSignalled = true;
  async waitForObject(handle: Win32Handle, timeoutMs: number) {
    this.#rec('WaitForSingleObject', handle, timeoutMs);
    await sleep(1);
    return this.waitSignalled;
  }
  getExitCodeProcess(process: Win32Handle) {
    this.#rec('GetExitCodeProcess', process);
    return this.exitCode;
  }
  openStdioFile(path: string, mode: string) {
    this.#rec('CreateFileW', path, mode);
    return this.#handle();
  }
  inheritableStdHandle(stream: 0 | 1 | 2) {
    this.#rec('DuplicateHandle', stream);
    return this.#handle();
  }
  closeHandle(handle: Win32Handle) {
    this.#rec('CloseHandle', handle);
    return this.open.delete(handle);
  }
  fns(): string[] {
    return this.calls.map((c) => c.fn);
  }
}
