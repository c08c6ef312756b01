import { readFile } from 'node:fs/promises';
import { HcsSandboxError } from '../../internal/errors.js';

/**
 * Reads the fixed file version (`VS_FIXEDFILEINFO`) from the version resource
 * of a PE file (`.exe`, `.dll`), without Windows APIs, so it works on any
 * platform and on files of a Windows image that is not running. Format:
 * Microsoft "PE Format" (DOS header → `PE\0\0` → COFF header → optional header
 * data directory 2, the resource table → section table to map the RVA) and
 * "VS_VERSIONINFO" / "VS_FIXEDFILEINFO" (`verrsrc.h`).
 *
 * @see https://learn.microsoft.com/windows/win32/debug/pe-format
 * @see https://learn.microsoft.com/windows/win32/menurc/vs-versioninfo
 */
export interface PeVersionInfo {
  /** `major.minor.build.revision` of the file version (`10.0.22621.2506`). */
  fileVersion: string;
  productVersion: string;
  major: number;
  minor: number;
  build: number;
  revision: number;
  /** COFF machine type (0x8664 x64, 0x14c x86, 0xaa64 ARM64). */
  machine: number;
}

/** The file is not a PE file, or has no (readable) version resource. */
export class PeFormatError extends HcsSandboxError {
  readonly path: string | undefined;

  constructor(problem: string, path?: string) {
    super('PE_FORMAT', `${path === undefined ? 'PE file' : JSON.stringify(path)}: ${problem}.`);
    this.path = path;
  }
}

const RT_VERSION = 16;
const FIXED_SIGNATURE = 0xfeef04bd;
const MAX_DEPTH = 3;

interface Section {
  va: number;
  virtualSize: number;
  rawSize: number;
  rawPointer: number;
}

/** Parses the version of a PE image held in memory. Throws `PeFormatError`. */
export function parsePeVersion(bytes: Uint8Array, path?: string): PeVersionInfo {
  const fail = (problem: string): never => {
    throw new PeFormatError(problem, path);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => (at + 2 <= bytes.length ? view.getUint16(at, true) : fail('truncated'));
  const u32 = (at: number): number => (at + 4 <= bytes.length ? view.getUint32(at, true) : fail('truncated'));

  if (bytes.length < 64 || u16(0) !== 0x5a4d) fail('no MZ header');
  const pe = u32(0x3c);
  if (u32(pe) !== 0x00004550) fail('no PE signature');
  const coff = pe + 4;
  const machine = u16(coff);
  const sectionCount = u16(coff + 2);
  const optionalSize = u16(coff + 16);
  const optional = coff + 20;
  const magic = u16(optional);
  let dirCountAt: number;
  if (magic === 0x10b) dirCountAt = optional + 92;
  else if (magic === 0x20b) dirCountAt = optional + 108;
  else return fail(`unknown optional header magic 0x${magic.toString(16)}`);
  const dirCount = u32(dirCountAt);
  if (dirCount <= 2) fail('no resource directory');
  const resourceRva = u32(dirCountAt + 4 + 2 * 8);
  if (resourceRva === 0) fail('no resources');

  const sections: Section[] = [];
  const sectionTable = optional + optionalSize;
  for (let i = 0; i < sectionCount; i++) {
    const at = sectionTable + i * 40;
    sections.push({
      virtualSize: u32(at + 8),
      va: u32(at + 12),
      rawSize: u32(at + 16),
      rawPointer: u32(at + 20),
    });
  }
  const fileOffset = (rva: number): number => {
    for (const s of sections) {
      const span = Math.max(s.virtualSize, s.rawSize);
      if (rva >= s.va && rva < s.va + span) {
        const offset = rva - s.va;
        if (offset >= s.rawSize) fail('resource data lies outside the file');
        return s.rawPointer + offset;
      }
    }
    return fail(`RVA 0x${rva.toString(16)} is in no section`);
  };
  const resourceBase = fileOffset(resourceRva);

  // Resource tree: type → name → language → data entry. Take the first entry below RT_VERSION.
  const findEntry = (dirOffset: number, depth: number, wantId: number | undefined): number => {
    if (depth > MAX_DEPTH) fail('resource tree too deep');
    const dir = resourceBase + dirOffset;
    const count = u16(dir + 12) + u16(dir + 14);
    for (let i = 0; i < count; i++) {
      const entry = dir + 16 + i * 8;
      const name = u32(entry);
      const target = u32(entry + 4);
      if (wantId !== undefined && ((name & 0x80000000) !== 0 || name !== wantId)) continue;
      if ((target & 0x80000000) !== 0) return findEntry(target & 0x7fffffff, depth + 1, undefined);
      return target;
    }
    return fail('no version resource');
  };
  const dataEntry = resourceBase + findEntry(0, 1, RT_VERSION);
  const dataRva = u32(dataEntry);
  const dataSize = u32(dataEntry + 4);
  const data = fileOffset(dataRva);
  if (data + dataSize > bytes.length) fail('version resource runs past the end of the file');

  // VS_VERSIONINFO: wLength, wValueLength, wType, L"VS_VERSION_INFO\0", pad to 4, VS_FIXEDFILEINFO.
  const key = 'VS_VERSION_INFO';
  for (let i = 0; i < key.length; i++) {
    if (u16(data + 6 + i * 2) !== key.charCodeAt(i)) fail('version resource is not VS_VERSION_INFO');
  }
  const fixed = (data + 6 + (key.length + 1) * 2 + 3) & ~3;
  if (u16(data + 2) < 52 || u32(fixed) !== FIXED_SIGNATURE) fail('no VS_FIXEDFILEINFO');
  const fileMs = u32(fixed + 8);
  const fileLs = u32(fixed + 12);
  const productMs = u32(fixed + 16);
  const productLs = u32(fixed + 20);
  const parts = [fileMs >>> 16, fileMs & 0xffff, fileLs >>> 16, fileLs & 0xffff] as const;
  return {
    fileVersion: parts.join('.'),
    productVersion: [productMs >>> 16, productMs & 0xffff, productLs >>> 16, productLs & 0xffff].join('.'),
    major: parts[0],
    minor: parts[1],
    build: parts[2],
    revision: parts[3],
    machine,
  };
}

/** Reads a PE file and parses its version. Throws `PeFormatError`, or the file system's error. */
export async function readPeVersion(path: string): Promise<PeVersionInfo> {
  return parsePeVersion(await readFile(path), path);
}
