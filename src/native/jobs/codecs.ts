import { jobStructs } from './structs.js';
import type {
  BasicAccountingInformation,
  BasicLimitInformation,
  CpuRateControlInformation,
  CreateProcessRequest,
  ExtendedLimitInformation,
  IoCounters,
  IoRateControlInformation,
} from './types.js';

/**
 * Codecs between the structs of `structs.ts` (as koffi encodes and decodes
 * them, C member names) and the camel-case records of `types.ts`.
 */

const STARTF_USESTDHANDLES = 0x100;

/** `STARTUPINFOW` with the three inherited standard handles of `request`. */
export function encodeStartupInfo(request: CreateProcessRequest): Record<string, unknown> {
  return {
    cb: jobStructs().STARTUPINFOW.size,
    lpReserved: null,
    lpDesktop: null,
    lpTitle: null,
    dwX: 0,
    dwY: 0,
    dwXSize: 0,
    dwYSize: 0,
    dwXCountChars: 0,
    dwYCountChars: 0,
    dwFillAttribute: 0,
    dwFlags: STARTF_USESTDHANDLES,
    wShowWindow: 0,
    cbReserved2: 0,
    lpReserved2: null,
    hStdInput: request.stdin,
    hStdOutput: request.stdout,
    hStdError: request.stderr,
  };
}

/** The UTF-16 environment block `CreateProcessW` takes (`CREATE_UNICODE_ENVIRONMENT`). */
export function encodeEnvironment(entries: string[]): Buffer {
  return Buffer.from(`${sortEnvironment(entries).join('\0')}\0\0`, 'utf16le');
}

function sortEnvironment(entries: string[]): string[] {
  // CreateProcessW wants the block sorted by name, case-insensitively (Unicode order).
  const key = (entry: string) => entry.slice(0, entry.indexOf('=', 1) >>> 0).toUpperCase();
  return [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

type Int = number | bigint;
const num = (v: Int): number => Number(v);
const big = (v: Int): bigint => BigInt(v);

interface RawBasicLimit {
  PerProcessUserTimeLimit: Int;
  PerJobUserTimeLimit: Int;
  LimitFlags: number;
  MinimumWorkingSetSize: Int;
  MaximumWorkingSetSize: Int;
  ActiveProcessLimit: number;
  Affinity: Int;
  PriorityClass: number;
  SchedulingClass: number;
}
export interface RawIo {
  ReadOperationCount: Int;
  WriteOperationCount: Int;
  OtherOperationCount: Int;
  ReadTransferCount: Int;
  WriteTransferCount: Int;
  OtherTransferCount: Int;
}
export interface RawExtended {
  BasicLimitInformation: RawBasicLimit;
  IoInfo: RawIo;
  ProcessMemoryLimit: Int;
  JobMemoryLimit: Int;
  PeakProcessMemoryUsed: Int;
  PeakJobMemoryUsed: Int;
}
export interface RawAccounting {
  TotalUserTime: Int;
  TotalKernelTime: Int;
  ThisPeriodTotalUserTime: Int;
  ThisPeriodTotalKernelTime: Int;
  TotalPageFaultCount: number;
  TotalProcesses: number;
  ActiveProcesses: number;
  TotalTerminatedProcesses: number;
}

export function encodeExtended(info: ExtendedLimitInformation): RawExtended {
  const b: BasicLimitInformation = info.basic;
  return {
    BasicLimitInformation: {
      PerProcessUserTimeLimit: b.perProcessUserTimeLimit,
      PerJobUserTimeLimit: b.perJobUserTimeLimit,
      LimitFlags: b.limitFlags >>> 0,
      MinimumWorkingSetSize: b.minimumWorkingSetSize,
      MaximumWorkingSetSize: b.maximumWorkingSetSize,
      ActiveProcessLimit: b.activeProcessLimit >>> 0,
      Affinity: b.affinity,
      PriorityClass: b.priorityClass >>> 0,
      SchedulingClass: b.schedulingClass >>> 0,
    },
    IoInfo: {
      ReadOperationCount: info.io.readOperationCount,
      WriteOperationCount: info.io.writeOperationCount,
      OtherOperationCount: info.io.otherOperationCount,
      ReadTransferCount: info.io.readTransferCount,
      WriteTransferCount: info.io.writeTransferCount,
      OtherTransferCount: info.io.otherTransferCount,
    },
    ProcessMemoryLimit: info.processMemoryLimit,
    JobMemoryLimit: info.jobMemoryLimit,
    PeakProcessMemoryUsed: info.peakProcessMemoryUsed,
    PeakJobMemoryUsed: info.peakJobMemoryUsed,
  };
}

export function decodeIo(raw: RawIo): IoCounters {
  return {
    readOperationCount: num(raw.ReadOperationCount),
    writeOperationCount: num(raw.WriteOperationCount),
    otherOperationCount: num(raw.OtherOperationCount),
    readTransferCount: num(raw.ReadTransferCount),
    writeTransferCount: num(raw.WriteTransferCount),
    otherTransferCount: num(raw.OtherTransferCount),
  };
}

export function decodeExtended(raw: RawExtended): ExtendedLimitInformation {
  const b = raw.BasicLimitInformation;
  return {
    basic: {
      perProcessUserTimeLimit: big(b.PerProcessUserTimeLimit),
      perJobUserTimeLimit: big(b.PerJobUserTimeLimit),
      limitFlags: b.LimitFlags,
      minimumWorkingSetSize: num(b.MinimumWorkingSetSize),
      maximumWorkingSetSize: num(b.MaximumWorkingSetSize),
      activeProcessLimit: b.ActiveProcessLimit,
      affinity: big(b.Affinity),
      priorityClass: b.PriorityClass,
      schedulingClass: b.SchedulingClass,
    },
    io: decodeIo(raw.IoInfo),
    processMemoryLimit: num(raw.ProcessMemoryLimit),
    jobMemoryLimit: num(raw.JobMemoryLimit),
    peakProcessMemoryUsed: num(raw.PeakProcessMemoryUsed),
    peakJobMemoryUsed: num(raw.PeakJobMemoryUsed),
  };
}

export function decodeAccounting(raw: RawAccounting): BasicAccountingInformation {
  return {
    totalUserTime: big(raw.TotalUserTime),
    totalKernelTime: big(raw.TotalKernelTime),
    thisPeriodTotalUserTime: big(raw.ThisPeriodTotalUserTime),
    thisPeriodTotalKernelTime: big(raw.ThisPeriodTotalKernelTime),
    totalPageFaultCount: raw.TotalPageFaultCount,
    totalProcesses: raw.TotalProcesses,
    activeProcesses: raw.ActiveProcesses,
    totalTerminatedProcesses: raw.TotalTerminatedProcesses,
  };
}

/** `JOBOBJECT_CPU_RATE_CONTROL_INFORMATION`, the union read as its `CpuRate` DWORD. */
export function encodeCpuRate(info: CpuRateControlInformation): Record<string, unknown> {
  return { ControlFlags: info.controlFlags >>> 0, u: { CpuRate: info.value >>> 0 } };
}

/** `JOBOBJECT_IO_RATE_CONTROL_INFORMATION`. */
export function encodeIoRate(info: IoRateControlInformation): Record<string, unknown> {
  return {
    MaxIops: info.maxIops,
    MaxBandwidth: info.maxBandwidth,
    ReservationIops: info.reservationIops,
    VolumeName: info.volumeName,
    BaseIoSize: info.baseIoSize >>> 0,
    ControlFlags: info.controlFlags >>> 0,
  };
}
