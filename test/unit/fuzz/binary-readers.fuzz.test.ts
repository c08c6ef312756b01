/**
 * Property tests of the two binary readers that take files from images and
 * stores: the PE version reader (a Windows image's `ntoskrnl.exe`, chosen by
 * the image) and the bbolt reader (containerd's `meta.db`). Valid files built
 * by the test writers are mutated (flipped bytes, offsets and page ids set to
 * edge values, truncation), with the bbolt meta checksum sometimes fixed up so
 * the mutation reaches the pages behind it; raw random bytes now and then.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type BoltBucket, BoltDB, fnv1a64 } from '../../../src/storage/images/bbolt.js';
import { parsePeVersion } from '../../../src/storage/images/pe-version.js';
import { writeBolt } from '../storage/images/bolt-writer.js';
import { buildPe } from '../storage/images/pe-builder.js';
import {
  byteMutation,
  expectHeapBounded,
  fuzzParams,
  fuzzRuns,
  heapUsed,
  mutate,
  mutatedOrRandom,
  returnsTyped,
  Tally,
} from './fuzz-support.js';

const RUNS = fuzzRuns(3000);
/** A parse of a few KiB that takes longer than this is a complexity bug. */
const BOUND_MS = 250;
const MiB = 2 ** 20;

describe('parsePeVersion (fuzz)', { timeout: 60_000 }, () => {
  const bases = [
    buildPe(),
    buildPe({ pe32plus: false }),
    buildPe({ decoys: true }),
    buildPe({ noVersion: true }),
  ];
  it(`answers a version or a PeFormatError for mutated PE files (${RUNS} runs)`, () => {
    const before = heapUsed();
    const tally = new Tally();
    fc.assert(
      fc.property(mutatedOrRandom(bases, { maxMutations: 3 }), (bytes) => {
        tally.see(returnsTyped('parsePeVersion', () => parsePeVersion(bytes), BOUND_MS));
      }),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'parsePeVersion');
    expectHeapBounded(before, 32 * MiB, 'parsePeVersion');
  });

  it(`also with the offsets of the headers set to edge values (${RUNS} runs)`, () => {
    const headerBytes = 0x400;
    const tally = new Tally();
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
        (base, ms) => {
          const bytes = mutate(base, ms, { start: 0, end: headerBytes });
          tally.see(returnsTyped('parsePeVersion', () => parsePeVersion(bytes), BOUND_MS));
        },
      ),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'parsePeVersion');
  });
});

const enc = new TextEncoder();
function boltSample(): Record<string, unknown> {
  const many: Record<string, string> = {};
  for (let i = 0; i < 40; i++) many[`key-${String(i).padStart(3, '0')}`] = `value-${i}`;
  return { v1: { default: { images: { 'x:1': { target: { digest: 'sha256:abc' } } }, many } }, version: 'x' };
}

/** Reads everything the way a consumer would: buckets by name, and a full walk (depth- and count-bounded). */
function readAll(db: BoltDB): number {
  let seen = 0;
  const walk = (bucket: BoltBucket, depth: number): void => {
    if (depth > 8) return;
    for (const e of bucket.entries()) {
      if (++seen > 100_000) throw new Error('fuzz walker: over 100000 entries from a few KiB');
      if (e.bucket) walk(e.bucket, depth + 1);
    }
  };
  const root = db.root();
  root.path('v1', 'default', 'images', 'x:1', 'target')?.get('digest');
  root.bucket('v1')?.bucket('default')?.bucket('many')?.get(enc.encode('key-017'));
  root.bucketNames();
  walk(root, 0);
  return seen;
}

/** Recomputes both meta pages' checksums, so a mutated meta page is read rather than skipped. */
function fixMetaChecksums(bytes: Uint8Array, pageSize: number): Uint8Array {
  const out = Buffer.from(bytes);
  for (const page of [0, pageSize]) {
    const m = page + 16;
    if (m + 64 > out.length) continue;
    out.writeBigUInt64LE(fnv1a64(out.subarray(m, m + 56)), m + 56);
  }
  return out;
}

describe('BoltDB (fuzz)', { timeout: 60_000 }, () => {
  const tree = boltSample() as Parameters<typeof writeBolt>[0];
  const bases = [
    { bytes: writeBolt(tree, { inline: true }), pageSize: 4096 },
    { bytes: writeBolt(tree, { inline: false, maxLeafElements: 3 }), pageSize: 4096 },
    { bytes: writeBolt(tree, { inline: false, pageSize: 1024 }), pageSize: 1024 },
  ];
  it(`answers entries or a BoltFormatError for mutated databases (${RUNS} runs)`, () => {
    const before = heapUsed();
    const tally = new Tally();
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(byteMutation, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.boolean(),
        (base, ms, inMeta, fixMeta) => {
          const focus = inMeta
            ? { start: 0, end: base.pageSize * 2 }
            : { start: base.pageSize * 2, end: base.bytes.length };
          let bytes = mutate(base.bytes, ms, focus);
          if (fixMeta) bytes = fixMetaChecksums(bytes, base.pageSize);
          tally.see(returnsTyped('BoltDB', () => readAll(BoltDB.fromBytes(bytes)), BOUND_MS));
        },
      ),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'BoltDB');
    expectHeapBounded(before, 32 * MiB, 'BoltDB');
  });

  it(`answers for raw random bytes and truncations too (${RUNS} runs)`, () => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        mutatedOrRandom(
          bases.map((b) => b.bytes),
          { maxRandomLength: 9000 },
        ),
        (bytes) => {
          tally.see(returnsTyped('BoltDB', () => readAll(BoltDB.fromBytes(bytes)), BOUND_MS));
        },
      ),
      fuzzParams(RUNS),
    );
    tally.expectBoth(0.02, 'BoltDB');
  });
});
