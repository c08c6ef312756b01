import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BoltDB,
  BoltFormatError,
  fnv1a64,
  readUvarint,
  readVarint,
} from '../../../../src/storage/images/bbolt.js';
import { type BoltTree, uvarint, varint, writeBolt } from './bolt-writer.js';
import { tempRoot } from './fixtures.js';

const dec = new TextDecoder();
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : dec.decode(b));

function sample(n: number): BoltTree {
  const many: BoltTree = {};
  for (let i = 0; i < n; i++) many[`key-${String(i).padStart(4, '0')}`] = `value-${i}`;
  return {
    v1: {
      default: {
        images: {
          'mcr.microsoft.com/windows/nanoserver:ltsc2022': {
            target: { digest: 'sha256:abc', size: varint(1234) },
          },
        },
        many,
      },
      empty: {},
    },
    version: uvarint(3),
  };
}

describe('BoltDB', () => {
  it.each([
    ['inline buckets, one leaf each', { inline: true }],
    ['no inline buckets', { inline: false }],
    ['branch pages (small leaves)', { inline: false, maxLeafElements: 3 }],
    ['page size 1024 with overflow pages', { pageSize: 1024, inline: false }],
  ])('reads nested buckets and values: %s', (_label, options) => {
    const db = BoltDB.fromBytes(writeBolt(sample(200), options));
    const root = db.root();
    expect(root.bucketNames()).toEqual(['v1']);
    expect(readUvarint(root.get('version'))).toBe(3n);
    const ns = root.path('v1', 'default');
    expect(ns).toBeDefined();
    const image = ns!.path('images', 'mcr.microsoft.com/windows/nanoserver:ltsc2022', 'target');
    expect(text(image?.get('digest'))).toBe('sha256:abc');
    expect(readVarint(image?.get('size'))).toBe(1234n);
    const many = ns!.bucket('many')!;
    const keys = [...many.entries()].map((e) => text(e.key));
    expect(keys).toHaveLength(200);
    expect(keys).toEqual([...keys].sort());
    for (const i of [0, 1, 2, 3, 57, 199]) {
      expect(text(many.get(`key-${String(i).padStart(4, '0')}`))).toBe(`value-${i}`);
    }
    expect(many.get('key-9999')).toBeUndefined();
    expect(many.get('a')).toBeUndefined();
    expect(many.bucket('key-0001')).toBeUndefined();
    expect(root.path('v1', 'empty')?.bucketNames()).toEqual([]);
    expect([...root.path('v1', 'empty')!.entries()]).toEqual([]);
    expect(root.path('v1', 'nope', 'x')).toBeUndefined();
  });

  it('reads values larger than a page', () => {
    const big = 'x'.repeat(10_000);
    const db = BoltDB.fromBytes(writeBolt({ b: { big } }, { pageSize: 4096, inline: false }));
    expect(text(db.root().bucket('b')?.get('big'))).toBe(big);
  });

  it('uses the meta page with the higher txid, and falls back when one is damaged', () => {
    const bytes = writeBolt({ a: { k: 'v' } }, { metaTxids: [9, 4] });
    expect(BoltDB.fromBytes(bytes).txid).toBe(9n);
    const damaged = BoltDB.fromBytes(writeBolt({ a: { k: 'v' } }, { corruptMeta0: true, txid: 7 }));
    expect(damaged.txid).toBe(7n);
    expect(text(damaged.root().bucket('a')?.get('k'))).toBe('v');
    const damaged0 = writeBolt({ a: { k: 'v' } }, { corruptMeta0: true, metaTxids: [9, 4] });
    expect(BoltDB.fromBytes(damaged0).txid).toBe(4n);
  });

  it('opens a file', async () => {
    const { root, cleanup } = await tempRoot('bolt');
    try {
      const path = join(root, 'meta.db');
      await writeFile(path, writeBolt(sample(5)));
      const db = await BoltDB.open(path);
      expect(db.pageSize).toBe(4096);
      expect(db.path).toBe(path);
    } finally {
      await cleanup();
    }
  });

  it.each([
    ['empty file', new Uint8Array(0), /no valid meta page/],
    ['not a database', new TextEncoder().encode('hello world'.repeat(1000)), /no valid meta page/],
  ])('rejects %s', (_label, bytes, message) => {
    expect(() => BoltDB.fromBytes(bytes)).toThrow(BoltFormatError);
    expect(() => BoltDB.fromBytes(bytes)).toThrow(message);
  });

  it('rejects a root page outside the file', () => {
    const bytes = writeBolt({ a: { k: 'v' } });
    const truncated = bytes.subarray(0, 3 * 4096);
    const db = BoltDB.fromBytes(truncated);
    expect(() => db.root().bucketNames()).toThrow(/outside the file/);
  });

  /** A bucket `b` whose root is a branch page over two leaves; returns the file and that branch's page id. */
  function withBranch(): { bytes: Uint8Array; branch: number } {
    const keys: BoltTree = {};
    for (let i = 0; i < 6; i++) keys[`k${i}`] = `v${i}`;
    const bytes = writeBolt({ b: keys }, { inline: false, maxLeafElements: 3 });
    const view = new DataView(bytes.buffer);
    for (let id = 3; id * 4096 < bytes.length; id++) {
      if (view.getUint16(id * 4096 + 8, true) === 0x01) return { bytes, branch: id };
    }
    throw new Error('no branch page');
  }

  /** Points every element of branch page `id` at `child`. */
  function pointAt(bytes: Uint8Array, id: number, child: number): void {
    const view = new DataView(bytes.buffer);
    const count = view.getUint16(id * 4096 + 10, true);
    for (let i = 0; i < count; i++) view.setBigUint64(id * 4096 + 16 + i * 16 + 8, BigInt(child), true);
  }

  it('rejects a branch page that points at itself, naming the page', () => {
    const { bytes, branch } = withBranch();
    pointAt(bytes, branch, branch);
    const bucket = BoltDB.fromBytes(bytes).root().bucket('b')!;
    expect(() => [...bucket.entries()]).toThrow(BoltFormatError);
    expect(() => [...bucket.entries()]).toThrow(`page ${branch} is reached twice`);
    expect(() => bucket.get('k1')).toThrow(BoltFormatError);
  });

  it('rejects a leaf shared by two elements of a branch (entries would repeat)', () => {
    const { bytes, branch } = withBranch();
    const view = new DataView(bytes.buffer);
    pointAt(bytes, branch, Number(view.getBigUint64(branch * 4096 + 16 + 8, true)));
    expect(() => [...BoltDB.fromBytes(bytes).root().bucket('b')!.entries()]).toThrow(/reached twice/);
  });

  it('rejects a chain of branch pages that each point twice at the next, quickly', () => {
    // 18 appended branch pages, each with two elements on the next: 2^18 paths to one leaf.
    const { bytes: base, branch } = withBranch();
    const levels = 18;
    const first = base.length / 4096;
    const bytes = new Uint8Array(base.length + levels * 4096);
    bytes.set(base);
    const view = new DataView(bytes.buffer);
    const leaf = Number(view.getBigUint64(branch * 4096 + 16 + 8, true));
    pointAt(bytes, branch, first);
    for (let level = 0; level < levels; level++) {
      const id = first + level;
      view.setBigUint64(id * 4096, BigInt(id), true);
      view.setUint16(id * 4096 + 8, 0x01, true);
      view.setUint16(id * 4096 + 10, 2, true);
      pointAt(bytes, id, level === levels - 1 ? leaf : id + 1);
    }
    const started = Date.now();
    expect(() => [...BoltDB.fromBytes(bytes).root().bucket('b')!.entries()]).toThrow(BoltFormatError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rejects a wrong version', () => {
    const bytes = writeBolt({ a: {} });
    for (const page of [0, 1]) new DataView(bytes.buffer).setUint32(page * 4096 + 20, 1, true);
    expect(() => BoltDB.fromBytes(bytes)).toThrow(/version|checksum/);
  });
});

describe('helpers', () => {
  it('fnv1a64 matches Go hash/fnv', () => {
    expect(fnv1a64(new Uint8Array())).toBe(0xcbf29ce484222325n);
    expect(fnv1a64(new TextEncoder().encode('a'))).toBe(0xaf63dc4c8601ec8cn);
  });
  it('varints round-trip', () => {
    for (const v of [0, 1, 127, 128, 300, 2 ** 40]) expect(readUvarint(uvarint(v))).toBe(BigInt(v));
    for (const v of [0, -1, 1, -64, 64, -(2 ** 40)]) expect(readVarint(varint(v))).toBe(BigInt(v));
    expect(readUvarint(Uint8Array.from([0x80]))).toBeUndefined();
    expect(readUvarint(undefined)).toBeUndefined();
  });
});
