import { formatBytes } from '../internal/format-bytes.js';
import type { BasicAccountingInformation, ExtendedLimitInformation, IoCounters } from '../native/index.js';
import { formatDuration } from './units.js';

/** Disk and other I/O of all processes that ran in the job. */
export interface JobIoCounters {
  readOperations: number;
  writeOperations: number;
  otherOperations: number;
  readBytes: number;
  writeBytes: number;
  otherBytes: number;
}

/** What a job's processes used, summed over every process that ever ran in it. */
export interface JobAccounting {
  /** CPU time in user mode, milliseconds. */
  userTimeMs: number;
  /** CPU time in kernel mode, milliseconds. */
  kernelTimeMs: number;
  pageFaults: number;
  /** Processes ever assigned (including children that inherited the job). */
  totalProcesses: number;
  activeProcesses: number;
  /** Processes ended by a job limit violation (not normal exits). */
  terminatedProcesses: number;
  /** I/O counters; null where the host does not report them (Wine does not). */
  io: JobIoCounters | null;
  /** Largest committed memory of one process, bytes (0 where not reported). */
  peakProcessMemory: number;
  /** Largest committed memory of the whole job, bytes (0 where not reported). */
  peakJobMemory: number;
}

/** 100 ns units to milliseconds. */
const toMs = (ticks: bigint): number => Number(ticks) / 10_000;

/** Builds the public accounting record from the native queries (pure). */
export function toJobAccounting(
  basic: BasicAccountingInformation,
  io: IoCounters | null,
  extended: ExtendedLimitInformation | null,
): JobAccounting {
  return {
    userTimeMs: toMs(basic.totalUserTime),
    kernelTimeMs: toMs(basic.totalKernelTime),
    pageFaults: basic.totalPageFaultCount,
    totalProcesses: basic.totalProcesses,
    activeProcesses: basic.activeProcesses,
    terminatedProcesses: basic.totalTerminatedProcesses,
    io: io
      ? {
          readOperations: io.readOperationCount,
          writeOperations: io.writeOperationCount,
          otherOperations: io.otherOperationCount,
          readBytes: io.readTransferCount,
          writeBytes: io.writeTransferCount,
          otherBytes: io.otherTransferCount,
        }
      : null,
    peakProcessMemory: extended?.peakProcessMemoryUsed ?? 0,
    peakJobMemory: extended?.peakJobMemoryUsed ?? 0,
  };
}

/** Accounting as label/value rows for a human table (pure). */
export function accountingRows(a: JobAccounting): [string, string][] {
  const rows: [string, string][] = [
    ['user time', formatDuration(a.userTimeMs)],
    ['kernel time', formatDuration(a.kernelTimeMs)],
    ['page faults', String(a.pageFaults)],
    [
      'processes',
      `${a.totalProcesses} total, ${a.activeProcesses} active, ${a.terminatedProcesses} terminated`,
    ],
    ['peak process memory', a.peakProcessMemory ? formatBytes(a.peakProcessMemory) : 'not reported'],
    ['peak job memory', a.peakJobMemory ? formatBytes(a.peakJobMemory) : 'not reported'],
  ];
  if (a.io) {
    rows.push(['io read', `${a.io.readOperations} ops, ${formatBytes(a.io.readBytes)}`]);
    rows.push(['io write', `${a.io.writeOperations} ops, ${formatBytes(a.io.writeBytes)}`]);
    rows.push(['io other', `${a.io.otherOperations} ops, ${formatBytes(a.io.otherBytes)}`]);
  } else {
    rows.push(['io', 'not reported by this host']);
  }
  return rows;
}
