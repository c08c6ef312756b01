import { totalmem } from 'node:os';
import { InvalidArgumentError } from '../internal/errors.js';
import {
  CpuRateControlFlags,
  type CpuRateControlInformation,
  type ExtendedLimitInformation,
  IO_RATE_CONTROL_ENABLE,
  type IoRateControlInformation,
  JobLimitFlags,
  PriorityClassValue,
} from '../native/index.js';
import { parseBytes, parsePercent } from './units.js';

/** Windows process priority classes, by the names `start /low` etc. users know. */
export type PriorityClass = keyof typeof PriorityClassValue;
export const PRIORITY_CLASSES = Object.keys(PriorityClassValue) as PriorityClass[];

/** A byte size: a whole number of bytes or a string with a unit (`"512MiB"`, see parseBytes). */
export type ByteSize = number | string;

/**
 * Limits a job object applies to every process in it. All optional; a limit
 * left out is not set. Byte sizes accept units (`"512MiB"`); a bare number is
 * bytes.
 */
export interface JobLimits {
  /** Hard cap on the job's CPU use, in percent of the whole machine (0.01..100). */
  cpuRatePercent?: number;
  /** Relative CPU weight 1..9 (5 is the default share). Not together with cpuRatePercent. */
  cpuWeight?: number;
  /** Committed memory each process may use (JOB_OBJECT_LIMIT_PROCESS_MEMORY). */
  processMemory?: ByteSize;
  /** Committed memory all processes together may use (JOB_OBJECT_LIMIT_JOB_MEMORY). */
  jobMemory?: ByteSize;
  /** Most processes alive at once in the job (JOB_OBJECT_LIMIT_ACTIVE_PROCESS). */
  activeProcesses?: number;
  /** Priority class of every process in the job (JOB_OBJECT_LIMIT_PRIORITY_CLASS). */
  priorityClass?: PriorityClass;
  /** Kill every process in the job when its last handle closes. */
  killOnJobClose?: boolean;
  /** Children may leave the job when created with CREATE_BREAKAWAY_FROM_JOB. */
  breakawayOk?: boolean;
  /** Children leave the job automatically. */
  silentBreakawayOk?: boolean;
  /** Disk bandwidth cap, bytes per second (SetIoRateControlInformationJobObject). */
  ioMaxBandwidth?: ByteSize;
  /** Disk operations per second cap. */
  ioMaxIops?: number;
}

/** {@link JobLimits} checked and converted to Windows' units. */
export interface ResolvedLimits {
  /** CpuRate in hundredths of a percent (1..10000). */
  cpuRate?: number;
  cpuWeight?: number;
  processMemory?: number;
  jobMemory?: number;
  activeProcesses?: number;
  priorityClass?: PriorityClass;
  killOnJobClose?: boolean;
  breakawayOk?: boolean;
  silentBreakawayOk?: boolean;
  ioMaxBandwidth?: number;
  ioMaxIops?: number;
}

const KNOWN: ReadonlySet<string> = new Set([
  'cpuRatePercent',
  'cpuWeight',
  'processMemory',
  'jobMemory',
  'activeProcesses',
  'priorityClass',
  'killOnJobClose',
  'breakawayOk',
  'silentBreakawayOk',
  'ioMaxBandwidth',
  'ioMaxIops',
]);

/** The smallest memory limit accepted: anything less is almost surely megabytes passed as bytes. */
export const MIN_MEMORY_LIMIT = 2 ** 20;
const UINT32_MAX = 0xffffffff;

export interface ValidateOptions {
  /** The host's memory in bytes (default `os.totalmem()`): memory limits above it are refused. */
  hostMemory?: number;
  /** Field path prefix for messages (e.g. `limits`). */
  path?: string;
}

/**
 * Checks limits before any native call and converts them to Windows' units.
 * Throws InvalidArgumentError naming the field and what it accepts.
 */
export function resolveLimits(limits: JobLimits, options: ValidateOptions = {}): ResolvedLimits {
  const at = (field: string) => (options.path ? `${options.path}.${field}` : field);
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits))
    throw new InvalidArgumentError(options.path ?? 'limits', 'an object of job limits', limits);
  for (const key of Object.keys(limits))
    if (!KNOWN.has(key))
      throw new InvalidArgumentError(
        at(key),
        `one of the known limits: ${[...KNOWN].join(', ')}`,
        key,
        'unknown limit',
      );
  const hostMemory = options.hostMemory ?? totalmem();
  const out: ResolvedLimits = {};

  if (limits.cpuRatePercent !== undefined) {
    if (typeof limits.cpuRatePercent !== 'number')
      throw new InvalidArgumentError(
        at('cpuRatePercent'),
        'a number of percent from 0.01 to 100',
        limits.cpuRatePercent,
      );
    out.cpuRate = Math.round(parsePercent(limits.cpuRatePercent, at('cpuRatePercent')) * 100);
  }
  if (limits.cpuWeight !== undefined) {
    if (!Number.isInteger(limits.cpuWeight) || limits.cpuWeight < 1 || limits.cpuWeight > 9)
      throw new InvalidArgumentError(at('cpuWeight'), 'a whole number from 1 to 9', limits.cpuWeight);
    if (out.cpuRate !== undefined)
      throw new InvalidArgumentError(
        at('cpuWeight'),
        'cpuWeight or cpuRatePercent, not both',
        limits.cpuWeight,
        'Windows holds one CPU rate control per job',
      );
    out.cpuWeight = limits.cpuWeight;
  }
  for (const field of ['processMemory', 'jobMemory'] as const) {
    const value = limits[field];
    if (value === undefined) continue;
    const bytes = parseBytes(value, at(field));
    if (bytes < MIN_MEMORY_LIMIT)
      throw new InvalidArgumentError(
        at(field),
        'at least 1 MiB (a bare number is bytes: write "512MiB" for megabytes)',
        value,
      );
    if (bytes > hostMemory)
      throw new InvalidArgumentError(
        at(field),
        `at most the host's memory (${hostMemory} bytes)`,
        value,
        `${bytes} bytes`,
      );
    out[field] = bytes;
  }
  if (out.processMemory !== undefined && out.jobMemory !== undefined && out.processMemory > out.jobMemory)
    throw new InvalidArgumentError(
      at('processMemory'),
      `at most jobMemory (${out.jobMemory} bytes): one process cannot use more than the whole job`,
      limits.processMemory,
    );
  if (limits.activeProcesses !== undefined) {
    const n = limits.activeProcesses;
    if (!Number.isInteger(n) || n < 1 || n > UINT32_MAX)
      throw new InvalidArgumentError(at('activeProcesses'), 'a whole number of processes, at least 1', n);
    out.activeProcesses = n;
  }
  if (limits.priorityClass !== undefined) {
    if (!PRIORITY_CLASSES.includes(limits.priorityClass))
      throw new InvalidArgumentError(
        at('priorityClass'),
        `one of ${PRIORITY_CLASSES.map((c) => `'${c}'`).join(', ')}`,
        limits.priorityClass,
      );
    out.priorityClass = limits.priorityClass;
  }
  for (const field of ['killOnJobClose', 'breakawayOk', 'silentBreakawayOk'] as const) {
    const value = limits[field];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new InvalidArgumentError(at(field), 'true or false', value);
    out[field] = value;
  }
  if (limits.ioMaxBandwidth !== undefined) {
    const bytes = parseBytes(limits.ioMaxBandwidth, at('ioMaxBandwidth'));
    if (bytes < 1)
      throw new InvalidArgumentError(
        at('ioMaxBandwidth'),
        'at least 1 byte per second',
        limits.ioMaxBandwidth,
      );
    out.ioMaxBandwidth = bytes;
  }
  if (limits.ioMaxIops !== undefined) {
    const n = limits.ioMaxIops;
    if (!Number.isSafeInteger(n) || n < 1)
      throw new InvalidArgumentError(
        at('ioMaxIops'),
        'a whole number of operations per second, at least 1',
        n,
      );
    out.ioMaxIops = n;
  }
  return out;
}

/** Whether any limit needs JOBOBJECT_EXTENDED_LIMIT_INFORMATION. */
export function hasExtendedLimits(limits: ResolvedLimits): boolean {
  return (
    limits.processMemory !== undefined ||
    limits.jobMemory !== undefined ||
    limits.activeProcesses !== undefined ||
    limits.priorityClass !== undefined ||
    limits.killOnJobClose !== undefined ||
    limits.breakawayOk !== undefined ||
    limits.silentBreakawayOk !== undefined
  );
}

/** The JOBOBJECT_EXTENDED_LIMIT_INFORMATION that sets exactly these limits (pure). */
export function toExtendedLimitInformation(limits: ResolvedLimits): ExtendedLimitInformation {
  let flags = 0;
  if (limits.processMemory !== undefined) flags |= JobLimitFlags.PROCESS_MEMORY;
  if (limits.jobMemory !== undefined) flags |= JobLimitFlags.JOB_MEMORY;
  if (limits.activeProcesses !== undefined) flags |= JobLimitFlags.ACTIVE_PROCESS;
  if (limits.priorityClass !== undefined) flags |= JobLimitFlags.PRIORITY_CLASS;
  if (limits.killOnJobClose) flags |= JobLimitFlags.KILL_ON_JOB_CLOSE;
  if (limits.breakawayOk) flags |= JobLimitFlags.BREAKAWAY_OK;
  if (limits.silentBreakawayOk) flags |= JobLimitFlags.SILENT_BREAKAWAY_OK;
  return {
    basic: {
      perProcessUserTimeLimit: 0n,
      perJobUserTimeLimit: 0n,
      limitFlags: flags,
      minimumWorkingSetSize: 0,
      maximumWorkingSetSize: 0,
      activeProcessLimit: limits.activeProcesses ?? 0,
      affinity: 0n,
      priorityClass: limits.priorityClass ? PriorityClassValue[limits.priorityClass] : 0,
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
    processMemoryLimit: limits.processMemory ?? 0,
    jobMemoryLimit: limits.jobMemory ?? 0,
    peakProcessMemoryUsed: 0,
    peakJobMemoryUsed: 0,
  };
}

/** The CPU rate control for these limits, or null when neither CPU limit is set (pure). */
export function toCpuRateControl(limits: ResolvedLimits): CpuRateControlInformation | null {
  if (limits.cpuRate !== undefined)
    return { controlFlags: CpuRateControlFlags.ENABLE | CpuRateControlFlags.HARD_CAP, value: limits.cpuRate };
  if (limits.cpuWeight !== undefined)
    return {
      controlFlags: CpuRateControlFlags.ENABLE | CpuRateControlFlags.WEIGHT_BASED,
      value: limits.cpuWeight,
    };
  return null;
}

/** The IO rate control for these limits (every volume), or null (pure). */
export function toIoRateControl(limits: ResolvedLimits): IoRateControlInformation | null {
  if (limits.ioMaxBandwidth === undefined && limits.ioMaxIops === undefined) return null;
  return {
    maxIops: limits.ioMaxIops ?? 0,
    maxBandwidth: limits.ioMaxBandwidth ?? 0,
    reservationIops: 0,
    volumeName: null,
    baseIoSize: 0,
    controlFlags: IO_RATE_CONTROL_ENABLE,
  };
}
