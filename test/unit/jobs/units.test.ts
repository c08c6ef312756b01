import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { formatBytes, formatDuration, parseBytes, parsePercent } from '../../../src/jobs/index.js';

describe('parseBytes', () => {
  it.each([
    ['0', 0],
    ['1048576', 1048576],
    [4096, 4096],
    ['20B', 20],
    ['1KB', 1000],
    ['20MB', 20_000_000],
    ['20mb', 20_000_000],
    ['2 GB', 2e9],
    ['1TB', 1e12],
    ['1KiB', 1024],
    ['512MiB', 512 * 2 ** 20],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['2tib', 2 * 2 ** 40],
    [' 64MiB ', 64 * 2 ** 20],
  ])('%j -> %d', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  it.each(['', 'MB', '-1MB', '20 MBs', '20XB', '1e3', '0x10', '1.5B', '20  MB', 'twenty', '1,5GB'])(
    'rejects %j naming the field',
    (input) => {
      const error = (() => {
        try {
          parseBytes(input, 'memory');
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe('memory');
      expect((error as Error).message).toMatch(/KiB\/MiB\/GiB\/TiB/);
    },
  );

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])('rejects the number %d', (n) => {
    expect(() => parseBytes(n)).toThrow(InvalidArgumentError);
  });

  it('rejects sizes beyond a safe integer', () => {
    expect(() => parseBytes('99999999TiB')).toThrow(/too large/);
  });
});

describe('parsePercent', () => {
  it.each([
    ['50', 50],
    ['12.5%', 12.5],
    [100, 100],
    ['0.01', 0.01],
    [' 7 % ', 7],
  ])('%j -> %d', (input, percent) => {
    expect(parsePercent(input)).toBe(percent);
  });

  it.each(['0', '0.001', '101', '-5', 'fifty', '50%%', '', 1000, 0.005])('rejects %j', (input) => {
    expect(() => parsePercent(input, 'cpu')).toThrow(/Invalid cpu: expected a percentage from 0.01 to 100/);
  });
});

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [1024, '1.0 KB'],
    [1536 * 1024, '1.6 MB'],
    [87_000_000, '87 MB'],
    [200 * 2 ** 30, '215 GB'],
    [undefined, ''],
  ])('formatBytes(%d) = %s', (n, s) => expect(formatBytes(n)).toBe(s));

  it.each([
    [0, '0.000 s'],
    [1234.5, '1.234 s'],
    [65_000, '1 min 05.000 s'],
  ])('formatDuration(%d) = %s', (n, s) => expect(formatDuration(n)).toBe(s));
});
