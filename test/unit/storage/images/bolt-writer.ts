import { fnv1a64 } from '../../../../src/storage/images/bbolt.js';

/**
 * Writes a bbolt database file page by page (bbolt `page.go` / `node.go` /
 * `bucket.go` layouts) so the reader is tested against bytes laid out
 * independently of it. Not a general writer: no freelist contents, no
 * rebalancing, just what a database bbolt wrote could look like.
 */
export type BoltTree = { [key: string]: BoltTree | Uint8Array | string };

export interface BoltWriteOptions {
  pageSize?: number;
  /** Split leaves after this many elements (forces branch pages). */
  maxLeafElements?: number;
  /** Store small leaf-only buckets inline (bbolt does, below a quarter page). */
  inline?: boolean;
  txid?: number;
  /** Damage meta page 0's checksum (the reader must fall back to page 1). */
  corruptMeta0?: boolean;
  /** Give meta page 1 a higher txid but point it at `staleRoot` (to test txid choice). */
  metaTxids?: [number, number];
}

const enc = new TextEncoder();

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

interface Element {
  key: Uint8Array;
  value: Uint8Array;
  bucket: boolean;
}

export function writeBolt(tree: BoltTree, options: BoltWriteOptions = {}): Uint8Array {
  const pageSize = options.pageSize ?? 4096;
  const maxLeaf = options.maxLeafElements ?? Number.POSITIVE_INFINITY;
  const inline = options.inline ?? true;
  const pages = new Map<number, Uint8Array>();
  let next = 3; // 0, 1 meta; 2 freelist

  const place = (build: (id: number) => Uint8Array, sizeHint: number): number => {
    const id = next;
    next += Math.max(1, Math.ceil(sizeHint / pageSize));
    const bytes = build(id);
    const span = Math.max(1, Math.ceil(bytes.length / pageSize));
    next = id + span;
    pages.set(id, bytes);
    return id;
  };

  const pageHeader = (view: DataView, id: number, flags: number, count: number, overflow: number): void => {
    view.setBigUint64(0, BigInt(id), true);
    view.setUint16(8, flags, true);
    view.setUint16(10, count, true);
    view.setUint32(12, overflow, true);
  };

  const leafBytes = (id: number, elements: Element[]): Uint8Array => {
    const dataLen = elements.reduce((n, e) => n + e.key.length + e.value.length, 0);
    const raw = 16 + elements.length * 16 + dataLen;
    const size = id === 0 ? raw : Math.ceil(raw / pageSize) * pageSize;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    pageHeader(view, id, 0x02, elements.length, id === 0 ? 0 : size / pageSize - 1);
    let data = 16 + elements.length * 16;
    elements.forEach((e, i) => {
      const el = 16 + i * 16;
      view.setUint32(el, e.bucket ? 1 : 0, true);
      view.setUint32(el + 4, data - el, true);
      view.setUint32(el + 8, e.key.length, true);
      view.setUint32(el + 12, e.value.length, true);
      out.set(e.key, data);
      out.set(e.value, data + e.key.length);
      data += e.key.length + e.value.length;
    });
    return out;
  };

  const branchBytes = (id: number, children: Array<{ key: Uint8Array; pgid: number }>): Uint8Array => {
    const raw = 16 + children.length * 16 + children.reduce((n, c) => n + c.key.length, 0);
    const size = Math.ceil(raw / pageSize) * pageSize;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    pageHeader(view, id, 0x01, children.length, size / pageSize - 1);
    let data = 16 + children.length * 16;
    children.forEach((c, i) => {
      const el = 16 + i * 16;
      view.setUint32(el, data - el, true);
      view.setUint32(el + 4, c.key.length, true);
      view.setBigUint64(el + 8, BigInt(c.pgid), true);
      out.set(c.key, data);
      data += c.key.length;
    });
    return out;
  };

  /** Returns the root page id of a bucket written to pages. */
  const writePages = (elements: Element[]): number => {
    const chunks: Element[][] = [];
    for (let i = 0; i < elements.length; i += Math.min(maxLeaf, elements.length || 1)) {
      chunks.push(elements.slice(i, i + maxLeaf));
    }
    if (chunks.length === 0) chunks.push([]);
    const leaves = chunks.map((chunk) => ({
      key: chunk[0]?.key ?? new Uint8Array(),
      pgid: place((id) => leafBytes(id, chunk), 16 + chunk.length * 16),
    }));
    if (leaves.length === 1) return leaves[0]!.pgid;
    return place((id) => branchBytes(id, leaves), 16 + leaves.length * 16);
  };

  const bucketValue = (sub: BoltTree): Uint8Array => {
    const elements = elementsOf(sub);
    const hasSubBuckets = elements.some((e) => e.bucket);
    const page = leafBytes(0, elements);
    const header = new Uint8Array(16);
    if (inline && !hasSubBuckets && 16 + page.length <= pageSize / 4) {
      const out = new Uint8Array(16 + page.length);
      out.set(page, 16);
      return out;
    }
    new DataView(header.buffer).setBigUint64(0, BigInt(writePages(elements)), true);
    return header;
  };

  const elementsOf = (t: BoltTree): Element[] =>
    Object.entries(t)
      .map(([k, v]) => {
        const key = enc.encode(k);
        if (typeof v === 'string') return { key, value: enc.encode(v), bucket: false };
        if (v instanceof Uint8Array) return { key, value: v, bucket: false };
        return { key, value: bucketValue(v), bucket: true };
      })
      .sort((a, b) => compare(a.key, b.key));

  const root = writePages(elementsOf(tree));

  const file = new Uint8Array(next * pageSize);
  for (const [id, bytes] of pages) file.set(bytes, id * pageSize);
  // Freelist page 2, empty.
  const free = new DataView(file.buffer, 2 * pageSize, pageSize);
  pageHeader(free, 2, 0x10, 0, 0);
  const txids = options.metaTxids ?? [(options.txid ?? 5) - 1, options.txid ?? 5];
  for (const i of [0, 1]) {
    const view = new DataView(file.buffer, i * pageSize, pageSize);
    pageHeader(view, i, 0x04, 0, 0);
    const m = 16;
    view.setUint32(m, 0xed0cdaed, true);
    view.setUint32(m + 4, 2, true);
    view.setUint32(m + 8, pageSize, true);
    view.setUint32(m + 12, 0, true);
    view.setBigUint64(m + 16, BigInt(root), true);
    view.setBigUint64(m + 24, 0n, true);
    view.setBigUint64(m + 32, 2n, true);
    view.setBigUint64(m + 40, BigInt(next), true);
    view.setBigUint64(m + 48, BigInt(txids[i]!), true);
    const sum = fnv1a64(file.subarray(i * pageSize + m, i * pageSize + m + 56));
    view.setBigUint64(m + 56, i === 0 && options.corruptMeta0 ? sum ^ 1n : sum, true);
  }
  return file;
}

/** Go's `binary.PutUvarint`. */
export function uvarint(value: number | bigint): Uint8Array {
  let v = BigInt(value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** Go's `binary.PutVarint` (zig-zag). */
export function varint(value: number | bigint): Uint8Array {
  const v = BigInt(value);
  return uvarint(v < 0n ? (-v << 1n) - 1n : v << 1n);
}
