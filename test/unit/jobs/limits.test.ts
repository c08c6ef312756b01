import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  type JobLimits,
  resolveLimits,
  toCpuRateControl,
  toExtendedLimitInformation,
  toIoRateControl,
} from '../../../src/jobs/index.js';

const GiB = 2 ** 30;
const host = { hostMemory: 8 * GiB };

function rejection(limits: unknown): InvalidArgumentError {
  try {
    resolveLimits(limits as JobLimits, host);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error('expected a rejection');
}

describe('resolveLimits', () => {
  it('converts to Windows units', () => {
    expect(
      resolveLimits(
        {
          cpuRatePercent: 12.5,
          processMemory: '256MiB',
          jobMemory: 1 * GiB,
          activeProcesses: 4,
          priorityClass: 'below-normal',
          killOnJobClose: true,
          ioMaxBandwidth: '10MB',
          ioMaxIops: 500,
        },
        host,
      ),
    ).toEqual({
      cpuRate: 1250,
      processMemory: 256 * 2 ** 20,
      jobMemory: GiB,
      activeProcesses: 4,
      priorityClass: 'below-normal',
      killOnJobClose: true,
      ioMaxBandwidth: 10_000_000,
      ioMaxIops: 500,
    });
  });

  it('maps 0.01..100 % to CpuRate 1..10000', () => {
    expect(resolveLimits({ cpuRatePercent: 0.01 }, host).cpuRate).toBe(1);
    expect(resolveLimits({ cpuRatePercent: 100 }, host).cpuRate).toBe(10000);
  });

  it.each([
    [{ cpuRatePercent: 0 }, 'cpuRatePercent', /0.01 to 100/],
    [{ cpuRatePercent: -5 }, 'cpuRatePercent', /0.01 to 100/],
    [{ cpuRatePercent: 150 }, 'cpuRatePercent', /0.01 to 100/],
    [{ cpuRatePercent: 0.001 }, 'cpuRatePercent', /0.01 to 100/],
    [{ cpuRatePercent: '50%' }, 'cpuRatePercent', /a number of percent/],
    [{ cpuWeight: 0 }, 'cpuWeight', /1 to 9/],
    [{ cpuWeight: 10 }, 'cpuWeight', /1 to 9/],
    [{ cpuWeight: 2.5 }, 'cpuWeight', /1 to 9/],
    [{ cpuWeight: 5, cpuRatePercent: 50 }, 'cpuWeight', /not both/],
    [{ processMemory: 0 }, 'processMemory', /at least 1 MiB/],
    [{ processMemory: 512 }, 'processMemory', /write "512MiB" for megabytes/],
    [{ processMemory: -1 }, 'processMemory', /whole number of bytes/],
    [{ processMemory: '20 parsecs' }, 'processMemory', /KiB\/MiB/],
    [{ jobMemory: '9GiB' }, 'jobMemory', /at most the host's memory \(8589934592 bytes\)/],
    [{ processMemory: '2GiB', jobMemory: '1GiB' }, 'processMemory', /at most jobMemory/],
    [{ activeProcesses: 0 }, 'activeProcesses', /at least 1/],
    [{ activeProcesses: 1.5 }, 'activeProcesses', /whole number/],
    [
      { priorityClass: 'low' },
      'priorityClass',
      /'idle', 'below-normal', 'normal', 'above-normal', 'high', 'realtime'/,
    ],
    [{ killOnJobClose: 'yes' }, 'killOnJobClose', /true or false/],
    [{ ioMaxBandwidth: 0 }, 'ioMaxBandwidth', /at least 1 byte per second/],
    [{ ioMaxIops: -3 }, 'ioMaxIops', /at least 1/],
    [{ memory: '1GiB' }, 'memory', /one of the known limits/],
  ])('%j is refused, naming %s', (limits, field, message) => {
    const error = rejection(limits);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.code).toBe('INVALID_ARGUMENT');
  });

  it('prefixes the field path when asked', () => {
    expect(() => resolveLimits({ cpuWeight: 0 }, { ...host, path: 'limits' })).toThrow(
      /Invalid limits.cpuWeight/,
    );
  });

  it('refuses a non-object', () => {
    expect(rejection(null).field).toBe('limits');
  });

  it("defaults the host's memory to os.totalmem()", () => {
    expect(() => resolveLimits({ jobMemory: '1024TiB' })).toThrow(/at most the host's memory/);
  });
});

describe('native conversions', () => {
  it('builds the extended limit information with exactly the flags asked for', () => {
    const info = toExtendedLimitInformation(
      resolveLimits(
        {
          processMemory: '64MiB',
          jobMemory: '128MiB',
          activeProcesses: 3,
          priorityClass: 'idle',
          killOnJobClose: true,
        },
        host,
      ),
    );
    expect(info.basic.limitFlags).toBe(0x100 | 0x200 | 0x8 | 0x20 | 0x2000);
    expect(info.basic.activeProcessLimit).toBe(3);
    expect(info.basic.priorityClass).toBe(0x40);
    expect(info.processMemoryLimit).toBe(64 * 2 ** 20);
    expect(info.jobMemoryLimit).toBe(128 * 2 ** 20);
  });

  it.each([
    [{ breakawayOk: true }, 0x800],
    [{ silentBreakawayOk: true }, 0x1000],
    [{ killOnJobClose: false }, 0],
    [{ priorityClass: 'realtime' as const }, 0x20],
  ])('%j -> flags 0x%s', (limits, flags) => {
    expect(toExtendedLimitInformation(resolveLimits(limits, host)).basic.limitFlags).toBe(flags);
  });

  it('builds CPU rate control: hard cap or weight', () => {
    expect(toCpuRateControl(resolveLimits({ cpuRatePercent: 25 }, host))).toEqual({
      controlFlags: 0x5,
      value: 2500,
    });
    expect(toCpuRateControl(resolveLimits({ cpuWeight: 3 }, host))).toEqual({ controlFlags: 0x3, value: 3 });
    expect(toCpuRateControl(resolveLimits({}, host))).toBeNull();
  });

  it('builds IO rate control for every volume', () => {
    expect(toIoRateControl(resolveLimits({ ioMaxIops: 100 }, host))).toEqual({
      maxIops: 100,
      maxBandwidth: 0,
      reservationIops: 0,
      volumeName: null,
      baseIoSize: 0,
      controlFlags: 1,
    });
    expect(toIoRateControl(resolveLimits({}, host))).toBeNull();
  });
});
