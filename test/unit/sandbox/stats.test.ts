import { describe, expect, it } from 'vitest';
import { toSandboxStats } from '../../../src/sandbox/stats.js';

const reading = (runtime100ns: number) => ({
  Timestamp: '2026-11-21T06:00:00.000Z',
  Uptime100ns: 25_000_000,
  Processor: { TotalRuntime100ns: runtime100ns },
  Memory: {
    MemoryUsageCommitBytes: 300,
    MemoryUsageCommitPeakBytes: 400,
    MemoryUsagePrivateWorkingSetBytes: 200,
  },
  Storage: { ReadCountNormalized: 3, ReadSizeBytes: 4096, WriteCountNormalized: 1, WriteSizeBytes: 512 },
});

describe('toSandboxStats', () => {
  it('maps HCS statistics and reports 0 % CPU on the first reading', () => {
    expect(toSandboxStats('a', reading(10_000_000), 2, undefined, 1000, 4)).toEqual({
      name: 'a',
      timestamp: '2026-11-21T06:00:00.000Z',
      cpuPercent: 0,
      cpuTimeMs: 1000,
      memory: { workingSetBytes: 200, commitBytes: 300, commitPeakBytes: 400 },
      storage: { readBytes: 4096, writeBytes: 512, readOps: 3, writeOps: 1 },
      processes: 2,
      uptimeMs: 2500,
    });
  });

  it.each([
    // 1 s of wall time on 4 CPUs = 4e7 units of 100 ns possible
    [10_000_000, 4, 25], // one CPU busy for the whole second
    [40_000_000, 4, 100], // every CPU busy
    [5_000_000, 1, 50],
    [0, 2, 0],
  ])('runtime delta %d on %d CPUs over 1 s is %d %%', (delta, cpus, percent) => {
    const s = toSandboxStats('a', reading(delta), 1, { runtime100ns: 0, at: 0 }, 1000, cpus);
    expect(s.cpuPercent).toBe(percent);
  });

  it('never reports more than 100 % or less than 0 (counters reset after a restart)', () => {
    expect(toSandboxStats('a', reading(1e12), 1, { runtime100ns: 0, at: 0 }, 1000, 1).cpuPercent).toBe(100);
    expect(toSandboxStats('a', reading(0), 1, { runtime100ns: 1e9, at: 0 }, 1000, 1).cpuPercent).toBe(0);
  });

  it('treats missing fields as zero', () => {
    const s = toSandboxStats('a', {}, 0, undefined, 5, 1);
    expect(s.memory).toEqual({ workingSetBytes: 0, commitBytes: 0, commitPeakBytes: 0 });
    expect(s.cpuTimeMs).toBe(0);
  });
});
