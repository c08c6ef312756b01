/**
 * Windows job objects for host processes: limits (CPU, memory, process count,
 * priority, IO), accounting, and termination of a whole process tree. See
 * docs/jobs.md.
 */

export { formatBytes } from '../internal/format-bytes.js';
export { Win32CallError } from '../native/index.js';
export { accountingRows, type JobAccounting, type JobIoCounters, toJobAccounting } from './accounting.js';
export { JobClosedError, JobRunAbortedError } from './errors.js';
export { Job, type ProcessTarget, type QueriedCpuRate, type QueriedLimits } from './job.js';
export {
  type ByteSize,
  type JobLimits,
  MIN_MEMORY_LIMIT,
  PRIORITY_CLASSES,
  type PriorityClass,
  type ResolvedLimits,
  resolveLimits,
  toCpuRateControl,
  toExtendedLimitInformation,
  toIoRateControl,
} from './limits.js';
export {
  buildEnvironment,
  type RunInJobOptions,
  type RunInJobResult,
  runInJob,
  type StdioTarget,
} from './run.js';
export { BYTE_UNITS, formatDuration, parseBytes, parsePercent } from './units.js';
