/**
 * Builds a minimal PE file with a version resource, byte by byte, following
 * Microsoft's "PE Format" and VS_VERSIONINFO layouts, for the parser tests.
 */
export interface PeBuildOptions {
  pe32plus?: boolean;
  fileVersion?: [number, number, number, number];
  productVersion?: [number, number, number, number];
  /** Put another resource type (RT_ICON, a named type) before RT_VERSION. */
  decoys?: boolean;
  /** Omit the version resource entirely. */
  noVersion?: boolean;
  /** Corrupt the VS_FIXEDFILEINFO signature. */
  badSignature?: boolean;
}

class Writer {
  bytes: number[] = [];
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v);
    this.u8(v >>> 8);
  }
  u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(v >>> 16);
  }
  pad(to: number): void {
    while (this.bytes.length % to !== 0) this.u8(0);
  }
  utf16z(s: string): void {
    for (const c of s) this.u16(c.charCodeAt(0));
    this.u16(0);
  }
  set32(at: number, v: number): void {
    this.bytes[at] = v & 0xff;
    this.bytes[at + 1] = (v >>> 8) & 0xff;
    this.bytes[at + 2] = (v >>> 16) & 0xff;
    this.bytes[at + 3] = (v >>> 24) & 0xff;
  }
}

function versionInfo(file: number[], product: number[], badSignature: boolean): number[] {
  const w = new Writer();
  w.u16(0); // wLength, patched below
  w.u16(52); // wValueLength
  w.u16(0); // wType (binary)
  w.utf16z('VS_VERSION_INFO');
  w.pad(4);
  w.u32(badSignature ? 0x12345678 : 0xfeef04bd);
  w.u32(0x00010000);
  w.u32(((file[0]! << 16) | file[1]!) >>> 0);
  w.u32(((file[2]! << 16) | file[3]!) >>> 0);
  w.u32(((product[0]! << 16) | product[1]!) >>> 0);
  w.u32(((product[2]! << 16) | product[3]!) >>> 0);
  for (let i = 0; i < 7; i++) w.u32(0);
  const out = w.bytes;
  out[0] = out.length & 0xff;
  out[1] = out.length >>> 8;
  return out;
}

export function buildPe(options: PeBuildOptions = {}): Uint8Array {
  const pe32plus = options.pe32plus ?? true;
  const file = options.fileVersion ?? [10, 0, 22621, 2506];
  const product = options.productVersion ?? file;
  const sectionVa = 0x1000;
  const sectionRaw = 0x200;

  // Resource section.
  const r = new Writer();
  const types: Array<{ id: number; named?: boolean }> = [];
  if (options.decoys) types.push({ id: 0, named: true }, { id: 3 });
  if (!options.noVersion) types.push({ id: 16 });
  // Root directory.
  const dirHeader = (named: number, ids: number): void => {
    r.u32(0);
    r.u32(0);
    r.u16(0);
    r.u16(0);
    r.u16(named);
    r.u16(ids);
  };
  dirHeader(types.filter((t) => t.named).length, types.filter((t) => !t.named).length);
  const rootEntries: number[] = [];
  for (const t of types) {
    rootEntries.push(r.bytes.length);
    r.u32(t.named ? 0x80000000 | 0x100 : t.id);
    r.u32(0);
  }
  const leaves: Array<{ dataEntryAt: number; payload: number[] }> = [];
  for (const [i, t] of types.entries()) {
    // Level 2 (name 1) and level 3 (language 0x409), each one entry.
    const level2 = r.bytes.length;
    r.set32(rootEntries[i]! + 4, (0x80000000 | level2) >>> 0);
    dirHeader(0, 1);
    const l2entry = r.bytes.length;
    r.u32(1);
    r.u32(0);
    const level3 = r.bytes.length;
    r.set32(l2entry + 4, (0x80000000 | level3) >>> 0);
    dirHeader(0, 1);
    r.u32(0x409);
    r.u32(0);
    const dataEntryAt = r.bytes.length;
    r.set32(dataEntryAt - 4, dataEntryAt);
    r.u32(0); // OffsetToData (RVA), patched below
    r.u32(0); // Size
    r.u32(0);
    r.u32(0);
    const payload =
      t.id === 16 && !t.named
        ? versionInfo(file, product, options.badSignature ?? false)
        : [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0];
    leaves.push({ dataEntryAt, payload });
  }
  for (const leaf of leaves) {
    r.pad(4);
    r.set32(leaf.dataEntryAt, sectionVa + r.bytes.length);
    r.set32(leaf.dataEntryAt + 4, leaf.payload.length);
    r.bytes.push(...leaf.payload);
  }
  r.pad(0x200);
  const resource = r.bytes;

  // Headers.
  const h = new Writer();
  h.u16(0x5a4d);
  while (h.bytes.length < 0x3c) h.u8(0);
  h.u32(0x40);
  h.u32(0x00004550);
  const optionalSize = pe32plus ? 112 + 16 * 8 : 96 + 16 * 8;
  h.u16(pe32plus ? 0x8664 : 0x14c);
  h.u16(1); // sections
  h.u32(0);
  h.u32(0);
  h.u32(0);
  h.u16(optionalSize);
  h.u16(0x2022);
  const optional = h.bytes.length;
  h.u16(pe32plus ? 0x20b : 0x10b);
  while (h.bytes.length < optional + (pe32plus ? 108 : 92)) h.u8(0);
  h.u32(16); // NumberOfRvaAndSizes
  for (let i = 0; i < 16; i++) {
    h.u32(i === 2 ? sectionVa : 0);
    h.u32(i === 2 ? resource.length : 0);
  }
  // Section table: .rsrc
  for (const c of '.rsrc\0\0\0') h.u8(c.charCodeAt(0));
  h.u32(resource.length);
  h.u32(sectionVa);
  h.u32(resource.length);
  h.u32(sectionRaw);
  h.u32(0);
  h.u32(0);
  h.u16(0);
  h.u16(0);
  h.u32(0x40000040);
  while (h.bytes.length < sectionRaw) h.u8(0);
  return Uint8Array.from([...h.bytes, ...resource]);
}
