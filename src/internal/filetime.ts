/** FILETIME (100 ns ticks since 1601-01-01 UTC) at the Unix epoch. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;

/** A FILETIME as a Date; 0, which Windows uses for "none kept", as undefined. */
export function fromFiletime(filetime: bigint): Date | undefined {
  return filetime === 0n ? undefined : new Date(Number((filetime - FILETIME_UNIX_EPOCH) / 10_000n));
}

export function toFiletime(date: Date): bigint {
  return BigInt(date.getTime()) * 10_000n + FILETIME_UNIX_EPOCH;
}
