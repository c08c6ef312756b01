import { setTimeout as sleep } from 'node:timers/promises';
import type { ComputeSystem } from '../hcs/index.js';
import { InvalidArgumentError } from '../internal/errors.js';
import { hostFacts } from './host.js';
/** The HCS `Statistics` document (the fields hcs-sandbox reads). */
export interface HcsStatistics {
  Timestamp?: string;
  Uptime100ns?: number;
  Processor?: { TotalRuntime100ns?: number; RuntimeUser100ns?: number; RuntimeKernel100ns?: number };
  Memory?: {
    MemoryUsageCommitBytes?: number;
    MemoryUsageCommitPeakBytes?: number;
    MemoryUsagePrivateWorkingSetBytes?: number;
  };
  Storage?: {
    ReadCountNormalized?: number;
    ReadSizeBytes?: number;
    WriteCountNormalized?: number;
    WriteSizeBytes?: number;
  };
}

/** `ProcessDetails`: one process inside a sandbox. */
export interface SandboxProcess {
  ProcessId: number;
  ImageName?: string;
  CreateTimestamp?: string;
  UserTime100ns?: number;
  KernelTime100ns?: number;
  MemoryCommitBytes?: number;
  MemoryWorkingSetPrivateBytes?: number;
  MemoryWorkingSetSharedBytes?: number;
}

/** One reading of a sandbox's resource use. */
export interface SandboxStats {
  name: string;
  /** When HCS took the reading (ISO 8601). */
  timestamp: string;
  /** CPU use over the interval since the previous reading, percent of the whole host (0 on the first). */
  cpuPercent: number;
  /** Total CPU time used since start, milliseconds. */
  cpuTimeMs: number;
  memory: { workingSetBytes: number; commitBytes: number; commitPeakBytes: number };
  storage: { readBytes: number; writeBytes: number; readOps: number; writeOps: number };
  processes: number;
  uptimeMs: number;
}

const n = (value: number | undefined): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;

/**
 * Turns HCS statistics into figures people read. CPU percent is the runtime
 * used in the interval over the runtime the host's processors could have given
 * it (as `docker stats` computes it for Windows containers).
 */
export function toSandboxStats(
  name: string,
  stats: HcsStatistics,
  processes: number,
  previous: { runtime100ns: number; at: number } | undefined,
  now: number,
  hostCpus: number,
): SandboxStats {
  const runtime = n(stats.Processor?.TotalRuntime100ns);
  let cpuPercent = 0;
  if (previous && now > previous.at) {
    const possible100ns = (now - previous.at) * 10_000 * Math.max(1, hostCpus);
    cpuPercent = Math.min(100, Math.max(0, ((runtime - previous.runtime100ns) / possible100ns) * 100));
  }
  return {
    name,
    timestamp: stats.Timestamp ?? new Date(now).toISOString(),
    cpuPercent: Math.round(cpuPercent * 100) / 100,
    cpuTimeMs: Math.round(runtime / 10_000),
    memory: {
      workingSetBytes: n(stats.Memory?.MemoryUsagePrivateWorkingSetBytes),
      commitBytes: n(stats.Memory?.MemoryUsageCommitBytes),
      commitPeakBytes: n(stats.Memory?.MemoryUsageCommitPeakBytes),
    },
    storage: {
      readBytes: n(stats.Storage?.ReadSizeBytes),
      writeBytes: n(stats.Storage?.WriteSizeBytes),
      readOps: n(stats.Storage?.ReadCountNormalized),
      writeOps: n(stats.Storage?.WriteCountNormalized),
    },
    processes,
    uptimeMs: Math.round(n(stats.Uptime100ns) / 10_000),
  };
}

/** Waits `ms`, or less when `signal` aborts (the stats loop then ends without an error). */
export async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await sleep(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    if ((error as Error | null)?.name !== 'AbortError') throw error;
  });
}

/**
 * Readings of a running sandbox, one per `intervalMs` (default 1 s) until the
 * loop breaks or `signal` aborts; CPU percent compares consecutive readings.
 * `system` is asked each time, so a sandbox that stops ends the stream with
 * its not-running error.
 */
export async function* streamStats(
  name: string,
  system: () => ComputeSystem,
  options: { intervalMs?: number; signal?: AbortSignal },
): AsyncGenerator<SandboxStats> {
  const intervalMs = options.intervalMs ?? 1000;
  if (!(Number.isFinite(intervalMs) && intervalMs >= 50)) {
    throw new InvalidArgumentError('intervalMs', 'at least 50 milliseconds', intervalMs);
  }
  const cpus = hostFacts().cpus;
  let previous: { runtime100ns: number; at: number } | undefined;
  while (!options.signal?.aborted) {
    const props = await system().properties<{ Statistics?: HcsStatistics; ProcessList?: SandboxProcess[] }>(
      { PropertyTypes: ['Statistics', 'ProcessList'] },
      options.signal ? { signal: options.signal } : {},
    );
    const now = Date.now();
    const stats = props.Statistics ?? {};
    yield toSandboxStats(name, stats, props.ProcessList?.length ?? 0, previous, now, cpus);
    previous = { runtime100ns: stats.Processor?.TotalRuntime100ns ?? 0, at: now };
    await sleepUnlessAborted(intervalMs, options.signal);
  }
}
