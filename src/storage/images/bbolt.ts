import { readFile } from 'node:fs/promises';
import { HcsSandboxError } from '../../internal/errors.js';

/**
 * A small read-only reader for bbolt (go.etcd.io/bbolt) database files, the
 * format of containerd's `meta.db` and its snapshotters' `metadata.db`.
 * Format (bbolt `page.go`, `node.go`, `bucket.go`, `db.go`, little-endian):
 *
 * - Every page starts with a 16-byte header: `id u64, flags u16, count u16,
 *   overflow u32`; a page with `overflow` n spans n+1 pages.
 *   Flags: branch 0x01, leaf 0x02, meta 0x04, freelist 0x10.
 * - Pages 0 and 1 are meta pages: `magic u32 (0xED0CDAED), version u32 (2),
 *   pageSize u32, flags u32, root bucket {root u64, sequence u64},
 *   freelist u64, pgid u64, txid u64, checksum u64` (FNV-1a 64 over the
 *   fields before it). The valid one with the higher txid is current.
 * - A branch page holds `count` elements `pos u32, ksize u32, pgid u64`; a
 *   leaf page `flags u32, pos u32, ksize u32, vsize u32`; `pos` is relative to
 *   the element. Leaf flag 0x01 marks a nested bucket, whose value is
 *   `{root u64, sequence u64}`; root 0 means an inline bucket: its page
 *   follows in the value itself.
 *
 * Reads a snapshot of the file held in memory, so a writer cannot change it
 * under the reader; the meta page checksum and txid pick a consistent root.
 */
export class BoltFormatError extends HcsSandboxError {
  readonly path: string | undefined;

  constructor(problem: string, path?: string) {
    super('BOLT_FORMAT', `${path === undefined ? 'bbolt database' : JSON.stringify(path)}: ${problem}.`);
    this.path = path;
  }
}

const MAGIC = 0xed0cdaed;
const VERSION = 2;
const PAGE_HEADER = 16;
const BRANCH = 0x01;
const LEAF = 0x02;
const META = 0x04;
const BUCKET_LEAF = 0x01;
const ELEMENT = 16;
const MAX_DEPTH = 64;

export interface BoltEntry {
  key: Uint8Array;
  /** The value of a key/value pair; absent for a nested bucket. */
  value?: Uint8Array;
  /** The nested bucket; absent for a key/value pair. */
  bucket?: BoltBucket;
}

const utf8 = new TextEncoder();
const toKey = (key: string | Uint8Array): Uint8Array => (typeof key === 'string' ? utf8.encode(key) : key);

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A bucket: ordered keys, each holding a value or a nested bucket. */
export class BoltBucket {
  readonly #db: BoltDB;
  /** Page id of the root, or 0 for an inline bucket. */
  readonly #root: bigint;
  /** The inline page bytes, for an inline bucket. */
  readonly #inline: Uint8Array | undefined;

  /** @internal */
  constructor(db: BoltDB, root: bigint, inline?: Uint8Array) {
    this.#db = db;
    this.#root = root;
    this.#inline = inline;
  }

  /** Every entry in key order. */
  *entries(): Generator<BoltEntry> {
    if (this.#root === 0n) {
      if (this.#inline === undefined) return;
      yield* this.#db.leafEntries(this.#inline, 0);
      return;
    }
    yield* this.#db.walk(this.#root, 0);
  }

  /** The entry for `key`, or `undefined`. Branch pages are searched, not scanned. */
  #find(key: string | Uint8Array): BoltEntry | undefined {
    const k = toKey(key);
    if (this.#root === 0n) {
      for (const e of this.entries()) if (compare(e.key, k) === 0) return e;
      return undefined;
    }
    return this.#db.seek(this.#root, k, 0);
  }

  /** The value stored under `key` (not a bucket), or `undefined`. */
  get(key: string | Uint8Array): Uint8Array | undefined {
    return this.#find(key)?.value;
  }

  /** The nested bucket `name`, or `undefined`. */
  bucket(name: string | Uint8Array): BoltBucket | undefined {
    return this.#find(name)?.bucket;
  }

  /** Follows a path of nested buckets. */
  path(...names: Array<string | Uint8Array>): BoltBucket | undefined {
    let b: BoltBucket | undefined = this;
    for (const n of names) {
      b = b.bucket(n);
      if (b === undefined) return undefined;
    }
    return b;
  }

  /** Names of the nested buckets, as UTF-8 strings, in key order. */
  bucketNames(): string[] {
    const out: string[] = [];
    for (const e of this.entries()) if (e.bucket !== undefined) out.push(new TextDecoder().decode(e.key));
    return out;
  }
}

/** An opened (in-memory) bbolt database. */
export class BoltDB {
  readonly bytes: Uint8Array;
  readonly pageSize: number;
  readonly txid: bigint;
  readonly path: string | undefined;
  readonly #view: DataView;
  readonly #rootPage: bigint;

  private constructor(bytes: Uint8Array, path: string | undefined) {
    this.bytes = bytes;
    this.path = path;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const metas: Array<{ pageSize: number; txid: bigint; root: bigint }> = [];
    const problems: string[] = [];
    // Meta page 0 tells the page size; if it is damaged, look for page 1 at common sizes.
    const first = this.#meta(0);
    if (typeof first === 'string') problems.push(`meta page 0: ${first}`);
    else metas.push(first);
    const sizes = typeof first === 'string' ? [4096, 8192, 16384, 65536, 1024, 2048] : [first.pageSize];
    for (const size of sizes) {
      const second = this.#meta(size);
      if (typeof second !== 'string') {
        metas.push(second);
        break;
      }
      if (sizes.length === 1) problems.push(`meta page 1: ${second}`);
    }
    if (metas.length === 0) throw new BoltFormatError(`no valid meta page (${problems.join('; ')})`, path);
    metas.sort((a, b) => (a.txid > b.txid ? -1 : a.txid < b.txid ? 1 : 0));
    const meta = metas[0]!;
    this.pageSize = meta.pageSize;
    this.txid = meta.txid;
    this.#rootPage = meta.root;
  }

  /** Parses a database held in memory. Throws `BoltFormatError`. */
  static fromBytes(bytes: Uint8Array, path?: string): BoltDB {
    return new BoltDB(bytes, path);
  }

  /** Reads a database file into memory and parses it. */
  static async open(path: string): Promise<BoltDB> {
    return new BoltDB(await readFile(path), path);
  }

  /** The root bucket (its entries are the top-level buckets). */
  root(): BoltBucket {
    return new BoltBucket(this, this.#rootPage);
  }

  #fail(problem: string): never {
    throw new BoltFormatError(problem, this.path);
  }

  #u16(at: number): number {
    if (at < 0 || at + 2 > this.bytes.length) this.#fail(`read past the end at ${at}`);
    return this.#view.getUint16(at, true);
  }

  #u32(at: number): number {
    if (at < 0 || at + 4 > this.bytes.length) this.#fail(`read past the end at ${at}`);
    return this.#view.getUint32(at, true);
  }

  #u64(at: number): bigint {
    if (at < 0 || at + 8 > this.bytes.length) this.#fail(`read past the end at ${at}`);
    return this.#view.getBigUint64(at, true);
  }

  #meta(offset: number): { pageSize: number; txid: bigint; root: bigint } | string {
    if (offset + PAGE_HEADER + 64 > this.bytes.length) return 'file too short';
    const m = offset + PAGE_HEADER;
    if ((this.#view.getUint16(offset + 8, true) & META) === 0) return 'not a meta page';
    if (this.#view.getUint32(m, true) !== MAGIC) return 'bad magic';
    if (this.#view.getUint32(m + 4, true) !== VERSION)
      return `unsupported version ${this.#view.getUint32(m + 4, true)}`;
    const checksum = this.#view.getBigUint64(m + 56, true);
    if (fnv1a64(this.bytes.subarray(m, m + 56)) !== checksum) return 'checksum mismatch';
    const pageSize = this.#view.getUint32(m + 8, true);
    if (pageSize < 512 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0)
      return `bad page size ${pageSize}`;
    return {
      pageSize,
      root: this.#view.getBigUint64(m + 16, true),
      txid: this.#view.getBigUint64(m + 48, true),
    };
  }

  /** Byte offset of page `id`, checked to lie inside the file. */
  #page(id: bigint): number {
    const offset = Number(id) * this.pageSize;
    if (id < 2n || !Number.isSafeInteger(offset) || offset + PAGE_HEADER > this.bytes.length) {
      this.#fail(`page ${id} is outside the file`);
    }
    return offset;
  }

  /** Records page `id` as reached in this walk; reaching it twice is a format error. */
  #visit(id: bigint, seen: Set<bigint>): void {
    if (seen.has(id)) this.#fail(`page ${id} is reached twice (a page cycle or a shared subtree)`);
    seen.add(id);
  }

  /**
   * @internal Entries of the subtree rooted at page `id`, in key order.
   * `seen` holds the pages of this walk: in a valid tree each page has one
   * parent, so a page reached twice is a cycle or a shared subtree, which a
   * crafted file uses to make a few pages yield billions of entries.
   */
  *walk(id: bigint, depth: number, seen: Set<bigint> = new Set()): Generator<BoltEntry> {
    if (depth > MAX_DEPTH) this.#fail('tree too deep (a page cycle?)');
    this.#visit(id, seen);
    const p = this.#page(id);
    const flags = this.#u16(p + 8);
    const count = this.#u16(p + 10);
    if (flags & LEAF) {
      yield* this.leafEntries(this.bytes, p);
      return;
    }
    if (!(flags & BRANCH))
      this.#fail(`page ${id} is neither branch nor leaf (flags 0x${flags.toString(16)})`);
    for (let i = 0; i < count; i++) {
      yield* this.walk(this.#u64(p + PAGE_HEADER + i * ELEMENT + 8), depth + 1, seen);
    }
  }

  /** @internal The entry for `key` in the subtree at page `id`. */
  seek(id: bigint, key: Uint8Array, depth: number, seen: Set<bigint> = new Set()): BoltEntry | undefined {
    if (depth > MAX_DEPTH) this.#fail('tree too deep (a page cycle?)');
    this.#visit(id, seen);
    const p = this.#page(id);
    const flags = this.#u16(p + 8);
    const count = this.#u16(p + 10);
    if (flags & LEAF) {
      for (const e of this.leafEntries(this.bytes, p)) {
        const c = compare(e.key, key);
        if (c === 0) return e;
        if (c > 0) return undefined;
      }
      return undefined;
    }
    if (!(flags & BRANCH))
      this.#fail(`page ${id} is neither branch nor leaf (flags 0x${flags.toString(16)})`);
    if (count === 0) return undefined;
    // The last element whose key is <= the wanted key (or the first).
    let child = this.#u64(p + PAGE_HEADER + 8);
    for (let i = 0; i < count; i++) {
      const el = p + PAGE_HEADER + i * ELEMENT;
      const pos = this.#u32(el);
      const ksize = this.#u32(el + 4);
      const k = this.#slice(el + pos, ksize);
      if (compare(k, key) > 0) break;
      child = this.#u64(el + 8);
    }
    return this.seek(child, key, depth + 1, seen);
  }

  /** @internal Entries of one leaf page starting at `p` inside `bytes` (the file or an inline bucket value). */
  *leafEntries(bytes: Uint8Array, p: number): Generator<BoltEntry> {
    const view =
      bytes === this.bytes ? this.#view : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const need = (at: number, n: number): void => {
      if (at < 0 || at + n > bytes.length) this.#fail(`leaf element runs past its page data at ${at}`);
    };
    need(p, PAGE_HEADER);
    const flags = view.getUint16(p + 8, true);
    const count = view.getUint16(p + 10, true);
    if (!(flags & LEAF)) this.#fail(`expected a leaf page (flags 0x${flags.toString(16)})`);
    for (let i = 0; i < count; i++) {
      const el = p + PAGE_HEADER + i * ELEMENT;
      need(el, ELEMENT);
      const elFlags = view.getUint32(el, true);
      const pos = view.getUint32(el + 4, true);
      const ksize = view.getUint32(el + 8, true);
      const vsize = view.getUint32(el + 12, true);
      need(el + pos, ksize + vsize);
      const key = bytes.subarray(el + pos, el + pos + ksize);
      const value = bytes.subarray(el + pos + ksize, el + pos + ksize + vsize);
      if (elFlags & BUCKET_LEAF) {
        if (value.length < 16) this.#fail('bucket header shorter than 16 bytes');
        const root = new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(0, true);
        yield { key, bucket: new BoltBucket(this, root, root === 0n ? value.subarray(16) : undefined) };
      } else {
        yield { key, value };
      }
    }
  }

  #slice(at: number, n: number): Uint8Array {
    if (at < 0 || at + n > this.bytes.length) this.#fail(`key runs past the end at ${at}`);
    return this.bytes.subarray(at, at + n);
  }
}

/** FNV-1a, 64 bit (Go's `hash/fnv.New64a`), as bbolt checksums its meta page. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** Go's `binary.Uvarint`: an unsigned LEB128 value, or `undefined` when malformed. */
export function readUvarint(bytes: Uint8Array | undefined): bigint | undefined {
  if (bytes === undefined) return undefined;
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < bytes.length && i < 10; i++) {
    const b = bytes[i]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
  }
  return undefined;
}

/** Go's `binary.Varint` (zig-zag), as containerd stores sizes. */
export function readVarint(bytes: Uint8Array | undefined): bigint | undefined {
  const u = readUvarint(bytes);
  if (u === undefined) return undefined;
  return u & 1n ? -((u >> 1n) + 1n) : u >> 1n;
}
