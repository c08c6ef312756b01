/**
 * A test-side reader of the layer transport format (the product writes it in
 * src/storage/images/transport-writer.ts): parses a `Files\` entry (attribute
 * word + Win32 backup stream) and turns a transport folder into the plain
 * layer folder an import produces, the way the simulated host does
 * (test-host/sim/transport.c). Written separately from the product's encoder so
 * each checks the other.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DecodedStream {
  id: number;
  name: string;
  data: Buffer;
}

export interface DecodedEntry {
  attributes: number;
  streams: DecodedStream[];
}

/** Parses attribute word + backup stream; throws unless the stream ends exactly at the end of the buffer. */
export function decodeTransportEntry(blob: Buffer): DecodedEntry {
  if (blob.length < 4) throw new Error(`transport entry of ${blob.length} bytes: no attribute word`);
  const attributes = blob.readUInt32LE(0);
  const streams: DecodedStream[] = [];
  let at = 4;
  while (at < blob.length) {
    if (blob.length - at < 20) throw new Error(`truncated stream header at ${at}`);
    const id = blob.readUInt32LE(at);
    const size = Number(blob.readBigUInt64LE(at + 8));
    const nameSize = blob.readUInt32LE(at + 16);
    const dataAt = at + 20 + nameSize;
    if (id < 1 || id > 10 || nameSize % 2 !== 0 || dataAt + size > blob.length) {
      throw new Error(`invalid stream header at ${at} (id ${id}, name ${nameSize}, size ${size})`);
    }
    streams.push({
      id,
      name: blob.subarray(at + 20, dataAt).toString('utf16le'),
      data: blob.subarray(dataAt, dataAt + size),
    });
    at = dataAt + size;
  }
  return { attributes, streams };
}

/** The print name (the target as written) of a symlink or mount-point REPARSE_DATA_BUFFER. */
export function reparseTarget(buffer: Buffer): { tag: number; target: string; relative?: boolean } {
  const tag = buffer.readUInt32LE(0);
  const extra = tag === 0xa000000c ? 4 : 0;
  const printOffset = buffer.readUInt16LE(12);
  const printLength = buffer.readUInt16LE(14);
  const names = 16 + extra;
  const target = buffer.subarray(names + printOffset, names + printOffset + printLength).toString('utf16le');
  return extra ? { tag, target, relative: buffer.readUInt32LE(16) === 1 } : { tag, target };
}

/** Copies a transport folder to `dst` with every `Files\` blob replaced by its data stream (a fake HcsImportLayer). */
export async function decodeTransportFolder(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  const walk = async (from: string, to: string, inFiles: boolean) => {
    for (const e of await readdir(from, { withFileTypes: true })) {
      if (e.name.endsWith('.$wcidirs$')) continue;
      const s = join(from, e.name);
      const d = join(to, e.name);
      if (e.isDirectory()) {
        await mkdir(d, { recursive: true });
        await walk(s, d, inFiles || e.name === 'Files');
      } else if (inFiles) {
        const data = decodeTransportEntry(await readFile(s)).streams.find((x) => x.id === 1)?.data;
        await writeFile(d, data ?? Buffer.alloc(0));
      } else {
        await copyFile(s, d);
      }
    }
  };
  await walk(src, dst, false);
}
