import { InvalidArgumentError } from '../internal/errors.js';

/**
 * Byte units. Decimal (SI) for KB, MB, GB, TB; binary (IEC) for KiB, MiB,
 * GiB, TiB. Unit letters are case-insensitive (`mb` = `MB`); there are no bit
 * units, so `Mb` also means megabytes.
 */
export const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const BYTES_ALLOWED =
  'a whole number of bytes, or a number with a unit: B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (powers of 1024), e.g. "512MiB"';

/**
 * Parses a byte size: a whole number of bytes (`1048576`), or a number and a
 * unit (`20MB`, `1.5 GiB`). Throws InvalidArgumentError naming `field` for
 * anything else (negative, empty, unknown unit, fractional bytes).
 */
export function parseBytes(value: string | number, field = 'size'): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new InvalidArgumentError(field, BYTES_ALLOWED, value);
    return value;
  }
  if (typeof value !== 'string') throw new InvalidArgumentError(field, BYTES_ALLOWED, value);
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+) ?([A-Za-z]*)\s*$/.exec(value);
  const unit = match ? (match[2] ?? '').toLowerCase() || 'b' : undefined;
  const factor = unit === undefined ? undefined : BYTE_UNITS[unit];
  if (!match || factor === undefined) throw new InvalidArgumentError(field, BYTES_ALLOWED, value);
  const bytes = Number(match[1]) * factor;
  if (!Number.isSafeInteger(Math.round(bytes)))
    throw new InvalidArgumentError(field, BYTES_ALLOWED, value, 'too large');
  if (Math.abs(bytes - Math.round(bytes)) > 1e-6)
    throw new InvalidArgumentError(field, BYTES_ALLOWED, value, 'not a whole number of bytes');
  return Math.round(bytes);
}

const PERCENT_ALLOWED = 'a percentage from 0.01 to 100 (e.g. 50 or "12.5%")';

/**
 * Parses a percentage: `50`, `"50"`, `"12.5%"`. Returns the number of percent
 * (0.01..100), which CPU rate control holds in hundredths of a percent.
 */
export function parsePercent(value: string | number, field = 'percent'): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.test(value))
    n = Number.parseFloat(value);
  else throw new InvalidArgumentError(field, PERCENT_ALLOWED, value);
  if (!Number.isFinite(n) || n < 0.01 || n > 100)
    throw new InvalidArgumentError(field, PERCENT_ALLOWED, value);
  if (Math.abs(n * 100 - Math.round(n * 100)) > 1e-6)
    throw new InvalidArgumentError(field, PERCENT_ALLOWED, value, 'finer than 0.01 %');
  return n;
}

/** Formats milliseconds as `0.250 s`, `1 min 05.000 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(3)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${((ms - minutes * 60_000) / 1000).toFixed(3).padStart(6, '0')} s`;
}
