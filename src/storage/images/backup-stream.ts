/**
 * Encoders for the pieces of a Win32 backup stream (what `BackupRead` produces
 * and `BackupWrite` consumes), the body of every `Files\` entry of the layer
 * transport format (see transport-writer.ts). Pure functions over Buffers, so
 * they are checked byte for byte on Linux.
 *
 * Layouts, from go-winio (github.com/microsoft/go-winio):
 * - stream header `WIN32_STREAM_ID` (backup.go `win32StreamID`, `WriteHeader`):
 *   dwStreamId u32, dwStreamAttributes u32, Size u64, dwStreamNameSize u32
 *   (bytes), then the name in UTF-16LE without a terminator, then Size bytes.
 *   All little endian, no padding: a 20-byte header.
 * - stream ids (backup.go `BackupData` ...): 1 data, 2 EA data, 3 security
 *   descriptor, 4 alternate data, 5 link, 6 property data, 7 object id,
 *   8 reparse data, 9 sparse block, 10 TxF data.
 * - `REPARSE_DATA_BUFFER` for symlinks and mount points (reparse.go
 *   `EncodeReparsePoint`).
 * - `FILE_FULL_EA_INFORMATION` chains for extended attributes (ea.go
 *   `EncodeExtendedAttributes`).
 */

export const BackupStreamId = {
  Data: 1,
  EaData: 2,
  Security: 3,
  AlternateData: 4,
  Link: 5,
  PropertyData: 6,
  ObjectId: 7,
  ReparseData: 8,
  SparseBlock: 9,
  TxfsData: 10,
} as const;

/** FILE_ATTRIBUTE_* bits this code sets or tests. */
export const FileAttribute = {
  ReadOnly: 0x1,
  Hidden: 0x2,
  System: 0x4,
  Directory: 0x10,
  Archive: 0x20,
  ReparsePoint: 0x400,
} as const;

const HEADER_BYTES = 20;

/** A `WIN32_STREAM_ID` header (and its name) for a stream of `size` bytes. */
export function streamHeader(id: number, size: number | bigint, name = ''): Buffer {
  const nameBytes = Buffer.from(name, 'utf16le');
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(id, 0);
  header.writeUInt32LE(0, 4); // dwStreamAttributes: nothing sparse or modified here
  header.writeBigUInt64LE(BigInt(size), 8);
  header.writeUInt32LE(nameBytes.length, 16);
  return Buffer.concat([header, nameBytes]);
}

/** A whole stream: header, name, data. */
export function encodeStream(id: number, data: Buffer, name = ''): Buffer {
  return Buffer.concat([streamHeader(id, data.length, name), data]);
}

/** The 4-byte little-endian attribute word that precedes the backup stream of a `Files\` entry. */
export function attributeWord(attributes: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(attributes >>> 0, 0);
  return b;
}

/** The name of an alternate data stream as a backup stream carries it (`:name:$DATA`). */
export function alternateStreamName(stream: string): string {
  return `:${stream}:$DATA`;
}

const TAG_MOUNT_POINT = 0xa0000003;
const TAG_SYMLINK = 0xa000000c;
const SYMLINK_FLAG_RELATIVE = 1;

/**
 * A `REPARSE_DATA_BUFFER` for a symlink or (when `mountPoint`) a junction to
 * `target`, as go-winio's `EncodeReparsePoint` builds it: the substitute name is
 * the NT path (`\??\C:\...`), the print name the target as given, both
 * NUL-terminated; a symlink whose target is not absolute is flagged relative.
 */
export function encodeReparsePoint(target: string, mountPoint: boolean): Buffer {
  const t = target.replaceAll('/', '\\');
  let nt = t;
  let relative = false;
  if (t.startsWith('\\\\?\\')) nt = `\\??\\${t.slice(4)}`;
  else if (t.startsWith('\\\\')) nt = `\\??\\UNC\\${t.slice(2)}`;
  else if (/^[A-Za-z]:/.test(t)) nt = `\\??\\${t}`;
  else relative = true;
  const sub = Buffer.from(`${nt}\0`, 'utf16le');
  const print = Buffer.from(`${t}\0`, 'utf16le');
  const flags = mountPoint ? 0 : 4;
  const head = Buffer.alloc(16 + flags);
  head.writeUInt32LE(mountPoint ? TAG_MOUNT_POINT : TAG_SYMLINK, 0);
  head.writeUInt16LE(8 + flags + sub.length + print.length, 4); // ReparseDataLength: after the 8-byte header
  head.writeUInt16LE(0, 6); // Reserved
  head.writeUInt16LE(0, 8); // SubstituteNameOffset
  head.writeUInt16LE(sub.length - 2, 10); // SubstituteNameLength, without the NUL
  head.writeUInt16LE(sub.length, 12); // PrintNameOffset
  head.writeUInt16LE(print.length - 2, 14); // PrintNameLength
  if (!mountPoint) head.writeUInt32LE(relative ? SYMLINK_FLAG_RELATIVE : 0, 16);
  return Buffer.concat([head, sub, print]);
}

export interface ExtendedAttribute {
  name: string;
  value: Buffer;
  flags?: number;
}

/**
 * A `FILE_FULL_EA_INFORMATION` chain: per entry NextEntryOffset u32 (0 on the
 * last), Flags u8, NameLength u8, ValueLength u16, the name (ASCII) and a NUL,
 * the value, each entry padded to 4 bytes (the last one too, as go-winio's
 * `writeEa` does).
 */
export function encodeExtendedAttributes(eas: readonly ExtendedAttribute[]): Buffer {
  const parts: Buffer[] = [];
  eas.forEach((ea, i) => {
    const name = Buffer.from(ea.name, 'latin1');
    if (name.length > 0xff) throw new RangeError(`extended attribute name too long: ${ea.name}`);
    if (ea.value.length > 0xffff) throw new RangeError(`extended attribute value too long: ${ea.name}`);
    const size = 8 + name.length + 1 + ea.value.length;
    const padded = (size + 3) & ~3;
    const last = i === eas.length - 1;
    const entry = Buffer.alloc(padded);
    entry.writeUInt32LE(last ? 0 : padded, 0);
    entry.writeUInt8(ea.flags ?? 0, 4);
    entry.writeUInt8(name.length, 5);
    entry.writeUInt16LE(ea.value.length, 6);
    name.copy(entry, 8);
    ea.value.copy(entry, 8 + name.length + 1);
    parts.push(entry);
  });
  return Buffer.concat(parts);
}
