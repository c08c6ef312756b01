/** Editing ustar headers in place, for the tar property tests and their regression cases. */

/** ustar header fields: offset and length. */
export const FIELDS = {
  name: [0, 100],
  mode: [100, 8],
  size: [124, 12],
  mtime: [136, 12],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  prefix: [345, 155],
} as const;
export type Field = keyof typeof FIELDS;

/** Offsets of the 512-byte blocks that hold ustar headers. */
export function headerOffsets(tar: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at + 512 <= tar.length; at += 512) {
    if (Buffer.from(tar.subarray(at + 257, at + 262)).toString('latin1') === 'ustar') out.push(at);
  }
  return out;
}

export function fixChecksum(tar: Buffer, at: number): void {
  tar.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += tar[i] ?? 0;
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

/** Sets one field of the header at `at` (zero-filled first); `fix` recomputes the header checksum. */
export function setHeaderField(tar: Buffer, at: number, field: Field, value: Uint8Array, fix = true): void {
  const [offset, length] = FIELDS[field];
  tar.fill(0, at + offset, at + offset + length);
  Buffer.from(value.subarray(0, length)).copy(tar, at + offset);
  if (fix) fixChecksum(tar, at);
}
