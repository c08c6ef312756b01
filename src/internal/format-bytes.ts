/**
 * Formats a byte count for people: `0 B`, `512 B`, `3.6 KB`, `87 MB`, `1.2 GB`.
 *
 * Decimal units (powers of 1000), because that is what `parseBytes` (jobs)
 * means by `KB`/`MB`/`GB`: a size this prints can be typed back as a limit and
 * mean the same bytes. The CLI already printed sizes this way (docs/cli.md,
 * README), and `KB` for 1024 would contradict the parser. One decimal below
 * 10 of a unit, none from 10 up; whole bytes below 1 KB.
 *
 * `undefined` (a size nobody reported) formats as an empty string, for table cells.
 */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];
