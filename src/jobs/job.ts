import { InvalidArgumentError } from '../internal/errors.js';
import {
  FunctionUnavailableError,
  JobAccess,
  JobLimitFlags,
  jobsNative,
  PriorityClassValue,
  ProcessAccess,
  Win32CallError,
  Win32ErrorCode,
  type Win32Handle,
} from '../native/index.js';
import { type JobAccounting, toJobAccounting } from './accounting.js';
import { JobClosedError } from './errors.js';
import {
  hasExtendedLimits,
  type JobLimits,
  type PriorityClass,
  type ResolvedLimits,
  resolveLimits,
  toCpuRateControl,
  toExtendedLimitInformation,
  toIoRateControl,
} from './limits.js';

/** What Windows reports back for a job's limits (QueryInformationJobObject). */
export interface QueriedLimits {
  /** JOB_OBJECT_LIMIT_* flags as Windows holds them. */
  limitFlags: number;
  processMemory: number | null;
  jobMemory: number | null;
  activeProcesses: number | null;
  priorityClass: PriorityClass | null;
  killOnJobClose: boolean;
  breakawayOk: boolean;
  silentBreakawayOk: boolean;
}

/** A CPU rate control as Windows reports it back. */
export type QueriedCpuRate =
  | { kind: 'none' }
  | { kind: 'hard-cap' | 'soft-cap'; percent: number }
  | { kind: 'weight'; weight: number }
  | { kind: 'other'; controlFlags: number; value: number };

/** A process: its id, or a process HANDLE with PROCESS_SET_QUOTA and PROCESS_TERMINATE access. */
export type ProcessTarget = number | Win32Handle;

const NAME_ALLOWED =
  'a non-empty name of at most 260 characters, without backslashes except a leading "Global\\" or "Local\\"';

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 260)
    throw new InvalidArgumentError('name', NAME_ALLOWED, name);
  if (name.replace(/^(Global|Local)\\/, '').includes('\\'))
    throw new InvalidArgumentError('name', NAME_ALLOWED, name);
  return name;
}

function checkPid(pid: number, field: string): number {
  if (!Number.isInteger(pid) || pid <= 0 || pid > 0xffffffff)
    throw new InvalidArgumentError(field, 'a process id (a positive whole number) or a process handle', pid);
  return pid;
}

/**
 * A Windows job object: a group of processes with shared limits (CPU, memory,
 * process count, priority), accounting, and one-call termination. Processes a
 * member starts join the job too (unless breakaway is allowed and asked for).
 *
 * The kernel32 calls behind these methods return at once (they never wait for
 * the processes), so the methods are synchronous. `close()` is idempotent.
 * See {@link https://learn.microsoft.com/windows/win32/procthread/job-objects}.
 */
export class Job {
  /** The name given to create or open it; undefined for an anonymous job. */
  readonly name: string | undefined;
  #handle: Win32Handle | null;
  #applied: ResolvedLimits = {};

  private constructor(handle: Win32Handle, name: string | undefined) {
    this.#handle = handle;
    this.name = name;
  }

  /**
   * Creates a job ({@link https://learn.microsoft.com/windows/win32/api/jobapi2/nf-jobapi2-createjobobjectw CreateJobObjectW}).
   * A named job is visible to other processes of the session (`Global\` for all
   * sessions); creating a name that already exists fails with ERROR_ALREADY_EXISTS
   * (use {@link Job.open}).
   */
  static create(options: { name?: string } = {}): Job {
    const name = options.name === undefined ? undefined : checkName(options.name);
    const native = jobsNative();
    const { handle, alreadyExisted } = native.createJobObject(name ?? null);
    if (alreadyExisted) {
      native.closeHandle(handle);
      throw new Win32CallError(
        'CreateJobObjectW',
        Win32ErrorCode.ERROR_ALREADY_EXISTS,
        `a job named ${JSON.stringify(name)} already exists: use Job.open`,
      );
    }
    return new Job(handle, name);
  }

  /**
   * Opens an existing named job ({@link https://learn.microsoft.com/windows/win32/api/jobapi2/nf-jobapi2-openjobobjectw OpenJobObjectW}),
   * with all access by default.
   */
  static open(name: string, options: { access?: number } = {}): Job {
    checkName(name);
    return new Job(jobsNative().openJobObject(name, options.access ?? JobAccess.ALL_ACCESS), name);
  }

  /** The job's HANDLE (for other Win32 calls); throws once closed. */
  get handle(): Win32Handle {
    return this.#live('use the handle');
  }

  get closed(): boolean {
    return this.#handle === null;
  }

  #live(what: string): Win32Handle {
    if (this.#handle === null) throw new JobClosedError(what);
    return this.#handle;
  }

  /**
   * Sets limits, merged with those set before through this object (so
   * `setLimits({ killOnJobClose: true })` then `setLimits({ cpuRatePercent: 20 })`
   * keeps both). Everything is validated before any native call. IO limits need
   * SetIoRateControlInformationJobObject; where kernel32 lacks it,
   * FunctionUnavailableError is thrown before anything is changed.
   */
  setLimits(limits: JobLimits): void {
    const job = this.#live('set limits');
    const resolved = resolveLimits(limits);
    const native = jobsNative();
    const io = toIoRateControl(resolved);
    if (io && !native.hasIoRateControl())
      throw new FunctionUnavailableError(
        'kernel32.dll',
        'SetIoRateControlInformationJobObject',
        'Windows 10',
      );
    const merged: ResolvedLimits = { ...this.#applied, ...resolved };
    if (resolved.cpuRate !== undefined) delete merged.cpuWeight;
    if (resolved.cpuWeight !== undefined) delete merged.cpuRate;
    if (hasExtendedLimits(resolved))
      native.setExtendedLimitInformation(job, toExtendedLimitInformation(merged));
    const cpu = toCpuRateControl(resolved);
    if (cpu) native.setCpuRateControlInformation(job, cpu);
    if (io) native.setIoRateControlInformation(job, toIoRateControl(merged) ?? io);
    this.#applied = merged;
  }

  /** The limits Windows holds for the job (JobObjectExtendedLimitInformation). */
  queryLimits(): QueriedLimits {
    const info = jobsNative().queryExtendedLimitInformation(this.#live('query limits'));
    const flags = info.basic.limitFlags;
    const priority = Object.entries(PriorityClassValue).find(([, v]) => v === info.basic.priorityClass);
    return {
      limitFlags: flags,
      processMemory: flags & JobLimitFlags.PROCESS_MEMORY ? info.processMemoryLimit : null,
      jobMemory: flags & JobLimitFlags.JOB_MEMORY ? info.jobMemoryLimit : null,
      activeProcesses: flags & JobLimitFlags.ACTIVE_PROCESS ? info.basic.activeProcessLimit : null,
      priorityClass: flags & JobLimitFlags.PRIORITY_CLASS && priority ? (priority[0] as PriorityClass) : null,
      killOnJobClose: (flags & JobLimitFlags.KILL_ON_JOB_CLOSE) !== 0,
      breakawayOk: (flags & JobLimitFlags.BREAKAWAY_OK) !== 0,
      silentBreakawayOk: (flags & JobLimitFlags.SILENT_BREAKAWAY_OK) !== 0,
    };
  }

  /** The CPU rate control Windows holds for the job (JobObjectCpuRateControlInformation). */
  queryCpuRate(): QueriedCpuRate {
    const { controlFlags, value } = jobsNative().queryCpuRateControlInformation(
      this.#live('query the CPU rate'),
    );
    if (!(controlFlags & 0x1)) return { kind: 'none' };
    if (controlFlags & 0x2) return { kind: 'weight', weight: value };
    if (!(controlFlags & 0x10))
      return { kind: controlFlags & 0x4 ? 'hard-cap' : 'soft-cap', percent: value / 100 };
    return { kind: 'other', controlFlags, value };
  }

  /**
   * Puts a process in the job (AssignProcessToJobObject). A process id is opened
   * with PROCESS_SET_QUOTA | PROCESS_TERMINATE for the call; a handle is used as is.
   */
  assign(target: ProcessTarget): void {
    const job = this.#live('assign a process');
    const native = jobsNative();
    if (typeof target === 'bigint') {
      native.assignProcessToJobObject(job, target);
      return;
    }
    const process = native.openProcess(
      checkPid(target, 'process'),
      ProcessAccess.SET_QUOTA | ProcessAccess.TERMINATE,
    );
    try {
      native.assignProcessToJobObject(job, process);
    } finally {
      native.closeHandle(process);
    }
  }

  /** Whether a process is in this job (IsProcessInJob). */
  contains(target: ProcessTarget): boolean {
    const job = this.#live('check membership');
    const native = jobsNative();
    if (typeof target === 'bigint') return native.isProcessInJob(target, job);
    const pid = checkPid(target, 'process');
    // Windows documents PROCESS_QUERY_LIMITED_INFORMATION as enough; Wine wants
    // PROCESS_QUERY_INFORMATION, so that is the second try.
    for (const access of [ProcessAccess.QUERY_LIMITED_INFORMATION, ProcessAccess.QUERY_INFORMATION]) {
      const process = native.openProcess(pid, access);
      try {
        return native.isProcessInJob(process, job);
      } catch (error) {
        if (!(error instanceof Win32CallError) || error.errorCode !== Win32ErrorCode.ERROR_ACCESS_DENIED)
          throw error;
        if (access === ProcessAccess.QUERY_INFORMATION) throw error;
      } finally {
        native.closeHandle(process);
      }
    }
    throw new Error('unreachable');
  }

  /**
   * What the job's processes used. I/O counters come from
   * JobObjectBasicAndIoAccountingInformation; where the host refuses that class
   * (Wine), `io` is null and the basic accounting is used.
   */
  accounting(): JobAccounting {
    const job = this.#live('read accounting');
    const native = jobsNative();
    let basicAndIo: ReturnType<typeof native.queryBasicAndIoAccountingInformation> | null = null;
    try {
      basicAndIo = native.queryBasicAndIoAccountingInformation(job);
    } catch (error) {
      if (
        !(error instanceof Win32CallError) ||
        (error.errorCode !== Win32ErrorCode.ERROR_INVALID_FUNCTION &&
          error.errorCode !== Win32ErrorCode.ERROR_INVALID_PARAMETER &&
          error.errorCode !== Win32ErrorCode.ERROR_NOT_SUPPORTED)
      )
        throw error;
    }
    const basic = basicAndIo ?? native.queryBasicAccountingInformation(job);
    return toJobAccounting(basic, basicAndIo?.io ?? null, native.queryExtendedLimitInformation(job));
  }

  /** Ids of the processes in the job now (JobObjectBasicProcessIdList). */
  processIds(): number[] {
    return jobsNative().queryProcessIdList(this.#live('list processes')).processIds;
  }

  /** Ends every process in the job with this exit code (TerminateJobObject). */
  terminate(exitCode = 1): void {
    if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 0xffffffff)
      throw new InvalidArgumentError('exitCode', 'a whole number from 0 to 4294967295', exitCode);
    jobsNative().terminateJobObject(this.#live('terminate'), exitCode);
  }

  /**
   * Closes this handle to the job (idempotent). With killOnJobClose, closing the
   * last handle ends every process in the job.
   */
  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    jobsNative().closeHandle(handle);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
