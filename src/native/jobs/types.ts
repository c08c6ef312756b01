import type { Win32Handle } from '../shared/types.js';

/**
 * The kernel32 job-object and process surface hcs-sandbox uses, in Win32 terms
 * but without koffi types. `kernel32.ts` implements it over kernel32.dll;
 * unit tests implement it in memory (see {@link setJobsNative}).
 *
 * Every method that can fail throws {@link Win32CallError} with the `GetLastError`
 * value read on the same thread straight after the failing call.
 */
export interface JobsNativeApi {
  /** `CreateJobObjectW(NULL, name)`. `alreadyExisted` is true when a named job was opened instead. */
  createJobObject(name: string | null): { handle: Win32Handle; alreadyExisted: boolean };
  /** `OpenJobObjectW(access, FALSE, name)`. */
  openJobObject(name: string, access: number): Win32Handle;
  /** `AssignProcessToJobObject`. */
  assignProcessToJobObject(job: Win32Handle, process: Win32Handle): void;
  /** `TerminateJobObject`. */
  terminateJobObject(job: Win32Handle, exitCode: number): void;
  /** `IsProcessInJob` (`job` null: in any job). */
  isProcessInJob(process: Win32Handle, job: Win32Handle | null): boolean;
  /** `SetInformationJobObject(JobObjectExtendedLimitInformation)`. */
  setExtendedLimitInformation(job: Win32Handle, info: ExtendedLimitInformation): void;
  /** `QueryInformationJobObject(JobObjectExtendedLimitInformation)`. */
  queryExtendedLimitInformation(job: Win32Handle): ExtendedLimitInformation;
  /** `SetInformationJobObject(JobObjectCpuRateControlInformation)`. */
  setCpuRateControlInformation(job: Win32Handle, info: CpuRateControlInformation): void;
  /** `QueryInformationJobObject(JobObjectCpuRateControlInformation)`. */
  queryCpuRateControlInformation(job: Win32Handle): CpuRateControlInformation;
  /** `QueryInformationJobObject(JobObjectBasicAccountingInformation)`. */
  queryBasicAccountingInformation(job: Win32Handle): BasicAccountingInformation;
  /** `QueryInformationJobObject(JobObjectBasicAndIoAccountingInformation)`. */
  queryBasicAndIoAccountingInformation(job: Win32Handle): BasicAccountingInformation & { io: IoCounters };
  /** `QueryInformationJobObject(JobObjectBasicProcessIdList)`, growing the buffer until every id fits. */
  queryProcessIdList(job: Win32Handle): { assigned: number; processIds: number[] };
  /**
   * `SetIoRateControlInformationJobObject`, bound on first use. Throws
   * FunctionUnavailableError where kernel32 does not export it (older Windows, Wine).
   */
  setIoRateControlInformation(job: Win32Handle, info: IoRateControlInformation): void;
  /** Whether kernel32 exports `SetIoRateControlInformationJobObject` here. */
  hasIoRateControl(): boolean;
  /** `OpenProcess(access, FALSE, pid)`. */
  openProcess(pid: number, access: number): Win32Handle;
  /**
   * `CreateProcessW` with `CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT` and
   * inherited standard handles (`STARTF_USESTDHANDLES`). The caller resumes the
   * thread and closes both handles.
   */
  createSuspendedProcess(request: CreateProcessRequest): CreatedProcess;
  /** `TerminateProcess`. */
  terminateProcess(process: Win32Handle, exitCode: number): void;
  /** `ResumeThread`; returns the previous suspend count. */
  resumeThread(thread: Win32Handle): number;
  /**
   * `WaitForSingleObject(handle, timeoutMs)` on a worker thread (it blocks).
   * Resolves `true` when signalled, `false` on timeout.
   */
  waitForObject(handle: Win32Handle, timeoutMs: number): Promise<boolean>;
  /** `GetExitCodeProcess` (259 = STILL_ACTIVE). */
  getExitCodeProcess(process: Win32Handle): number;
  /**
   * Opens a file as an inheritable handle for a child's standard stream:
   * `read` (existing file, stdin), `write` (truncate/create) or `append`.
   * The path `NUL` gives the null device.
   */
  openStdioFile(path: string, mode: 'read' | 'write' | 'append'): Win32Handle;
  /** `GetStdHandle` of this process (0 stdin, 1 stdout, 2 stderr), made inheritable; null when there is none. */
  inheritableStdHandle(stream: 0 | 1 | 2): Win32Handle | null;
  /** `CloseHandle`; false when Windows refused (an invalid handle). */
  closeHandle(handle: Win32Handle): boolean;
}

/** `JOBOBJECT_BASIC_LIMIT_INFORMATION`. Times in 100 ns units; sizes in bytes. */
export interface BasicLimitInformation {
  perProcessUserTimeLimit: bigint;
  perJobUserTimeLimit: bigint;
  limitFlags: number;
  minimumWorkingSetSize: number;
  maximumWorkingSetSize: number;
  activeProcessLimit: number;
  affinity: bigint;
  priorityClass: number;
  schedulingClass: number;
}

/** `IO_COUNTERS`. */
export interface IoCounters {
  readOperationCount: number;
  writeOperationCount: number;
  otherOperationCount: number;
  readTransferCount: number;
  writeTransferCount: number;
  otherTransferCount: number;
}

/** `JOBOBJECT_EXTENDED_LIMIT_INFORMATION`. Sizes in bytes. */
export interface ExtendedLimitInformation {
  basic: BasicLimitInformation;
  io: IoCounters;
  processMemoryLimit: number;
  jobMemoryLimit: number;
  peakProcessMemoryUsed: number;
  peakJobMemoryUsed: number;
}

/** `JOBOBJECT_CPU_RATE_CONTROL_INFORMATION`; `value` is the union (CpuRate, Weight, or MinRate | MaxRate << 16). */
export interface CpuRateControlInformation {
  controlFlags: number;
  value: number;
}

/** `JOBOBJECT_BASIC_ACCOUNTING_INFORMATION`. Times in 100 ns units. */
export interface BasicAccountingInformation {
  totalUserTime: bigint;
  totalKernelTime: bigint;
  thisPeriodTotalUserTime: bigint;
  thisPeriodTotalKernelTime: bigint;
  totalPageFaultCount: number;
  totalProcesses: number;
  activeProcesses: number;
  totalTerminatedProcesses: number;
}

/** `JOBOBJECT_IO_RATE_CONTROL_INFORMATION` (volume: null = every volume). */
export interface IoRateControlInformation {
  maxIops: number;
  maxBandwidth: number;
  reservationIops: number;
  volumeName: string | null;
  baseIoSize: number;
  controlFlags: number;
}

/** A standard stream for a child: an inheritable handle we pass, or none. */
export interface CreateProcessRequest {
  /** The full command line (`lpCommandLine`); the program is its first token. */
  commandLine: string;
  cwd: string | null;
  /** Environment as `KEY=VALUE` entries; null inherits ours. */
  environment: string[] | null;
  stdin: Win32Handle | null;
  stdout: Win32Handle | null;
  stderr: Win32Handle | null;
}

/** `PROCESS_INFORMATION`. */
export interface CreatedProcess {
  process: Win32Handle;
  thread: Win32Handle;
  processId: number;
  threadId: number;
}

/** `JOBOBJECTINFOCLASS` values used here. */
export const JobObjectInfoClass = {
  BasicAccountingInformation: 1,
  BasicLimitInformation: 2,
  BasicProcessIdList: 3,
  BasicAndIoAccountingInformation: 8,
  ExtendedLimitInformation: 9,
  CpuRateControlInformation: 15,
} as const;

/** `JOB_OBJECT_LIMIT_*` flags. */
export const JobLimitFlags = {
  WORKINGSET: 0x1,
  PROCESS_TIME: 0x2,
  JOB_TIME: 0x4,
  ACTIVE_PROCESS: 0x8,
  AFFINITY: 0x10,
  PRIORITY_CLASS: 0x20,
  PRESERVE_JOB_TIME: 0x40,
  SCHEDULING_CLASS: 0x80,
  PROCESS_MEMORY: 0x100,
  JOB_MEMORY: 0x200,
  DIE_ON_UNHANDLED_EXCEPTION: 0x400,
  BREAKAWAY_OK: 0x800,
  SILENT_BREAKAWAY_OK: 0x1000,
  KILL_ON_JOB_CLOSE: 0x2000,
} as const;

/** `JOB_OBJECT_CPU_RATE_CONTROL_*` flags. */
export const CpuRateControlFlags = {
  ENABLE: 0x1,
  WEIGHT_BASED: 0x2,
  HARD_CAP: 0x4,
  NOTIFY: 0x8,
  MIN_MAX_RATE: 0x10,
} as const;

/** `JOB_OBJECT_IO_RATE_CONTROL_ENABLE`. */
export const IO_RATE_CONTROL_ENABLE = 0x1;

/** `*_PRIORITY_CLASS` values for `PriorityClass`. */
export const PriorityClassValue = {
  idle: 0x40,
  'below-normal': 0x4000,
  normal: 0x20,
  'above-normal': 0x8000,
  high: 0x80,
  realtime: 0x100,
} as const;

/** Job access rights. */
export const JobAccess = {
  ASSIGN_PROCESS: 0x1,
  SET_ATTRIBUTES: 0x2,
  QUERY: 0x4,
  TERMINATE: 0x8,
  SET_SECURITY_ATTRIBUTES: 0x10,
  ALL_ACCESS: 0x1f001f,
} as const;

/** Process access rights used here. */
export const ProcessAccess = {
  TERMINATE: 0x1,
  SET_QUOTA: 0x100,
  QUERY_INFORMATION: 0x400,
  QUERY_LIMITED_INFORMATION: 0x1000,
  SYNCHRONIZE: 0x100000,
} as const;

/** `STILL_ACTIVE` from GetExitCodeProcess. */
export const STILL_ACTIVE = 259;

/** Win32 error codes the jobs layer names. */
export const Win32ErrorCode = {
  ERROR_INVALID_FUNCTION: 1,
  ERROR_FILE_NOT_FOUND: 2,
  ERROR_PATH_NOT_FOUND: 3,
  ERROR_ACCESS_DENIED: 5,
  ERROR_INVALID_HANDLE: 6,
  ERROR_NOT_ENOUGH_MEMORY: 8,
  ERROR_BAD_LENGTH: 24,
  ERROR_NOT_SUPPORTED: 50,
  ERROR_INVALID_PARAMETER: 87,
  ERROR_BAD_EXE_FORMAT: 193,
  ERROR_ALREADY_EXISTS: 183,
  ERROR_MORE_DATA: 234,
  ERROR_NOT_ENOUGH_QUOTA: 1816,
} as const;
