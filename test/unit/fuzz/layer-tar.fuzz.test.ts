/**
 * Property tests of the layer tar reader (`extractLayerTar`, through the one
 * tar loop `walkTar`): valid Windows layers with corrupted headers (sizes,
 * names, link names, type flags, PAX records; checksums recomputed so the
 * change gets past tar's own check), cut-short bodies, damaged gzip, and raw
 * bytes. Each run extracts into a fresh folder and must end in a result or an
 * `HcsSandboxError` within the bound: never a raw error, never a hang.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { extractLayerTar } from '../../../src/storage/images/layer-tar.js';
import { windowsLayer, winPax } from '../../support/registry/push.js';
import {
  byteMutation,
  expectHeapBounded,
  fuzzParams,
  fuzzRuns,
  heapUsed,
  mutate,
  settlesTyped,
  Tally,
} from './fuzz-support.js';
import { FIELDS, type Field, headerOffsets, setHeaderField } from './tar-headers.js';

const RUNS = fuzzRuns(300);
const BOUND_MS = 5000;
const MiB = 2 ** 20;
/** The whole property (its runs take a few seconds; this is for a slow shared machine). */
const TEST_MS = 120_000;

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;
const FIELD_VALUES: Record<Field, fc.Arbitrary<Uint8Array>> = {
  name: fc
    .constantFrom(
      'Files/../../x',
      '/abs',
      'C:\\x',
      'Files/a\0b',
      'Files/x:ads',
      'Hives/',
      'Files/.wh..wh..opq',
      'UtilityVM/Files',
      'Files//./a',
      '',
    )
    .map((s) => Buffer.from(s)),
  mode: fc.constantFrom('0000777\0', 'zzzzzzz\0', '\0').map((s) => Buffer.from(s)),
  size: fc.oneof(
    fc.constantFrom(0, 1, 511, 512, 513, 2 ** 33 - 1).map((n) => Buffer.from(octal(n, 12))),
    fc.constantFrom('99999999999\0', '-1\0', ' \0').map((s) => Buffer.from(s)),
    // GNU base-256: high bit set, then big-endian bytes (huge or negative sizes).
    fc.uint8Array({ minLength: 11, maxLength: 11 }).map((b) => Buffer.concat([Buffer.from([0x80]), b])),
    fc.constant(Buffer.from([0xff, ...new Array(11).fill(0xff)])),
  ),
  mtime: fc.constantFrom('77777777777\0', '\0', 'x').map((s) => Buffer.from(s)),
  typeflag: fc
    .constantFrom('0', '1', '2', '3', '4', '5', '6', '7', 'g', 'x', 'L', 'K', 'S', 'V', '\0', 'Z')
    .map((s) => Buffer.from(s)),
  linkname: fc
    .constantFrom(
      'Files/Windows',
      '../../etc',
      'C:\\Windows',
      '',
      'Files/missing',
      'Hives/Sam_Delta',
      '\\\\srv\\share',
    )
    .map((s) => Buffer.from(s)),
  magic: fc.constantFrom('ustar\0', 'ustar ', 'xxxxxx').map((s) => Buffer.from(s)),
  prefix: fc.constantFrom('', 'Files', '..', 'C:').map((s) => Buffer.from(s)),
};

interface HeaderEdit {
  header: number;
  field: Field;
  value: Uint8Array;
}
const headerEdit: fc.Arbitrary<HeaderEdit> = fc
  .constantFrom(...(Object.keys(FIELDS) as Field[]))
  .chain((field) =>
    fc.record({ header: fc.nat({ max: 1000 }), field: fc.constant(field), value: FIELD_VALUES[field] }),
  );

function editHeaders(base: Uint8Array, edits: readonly HeaderEdit[], fix: boolean): Buffer {
  const tar = Buffer.from(base);
  const headers = headerOffsets(tar);
  for (const e of edits) {
    const at = headers[e.header % headers.length];
    if (at !== undefined) setHeaderField(tar, at, e.field, e.value, fix);
  }
  return tar;
}

let work: string;
let bases: Buffer[];
let run = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fuzz-layer-tar-'));
  const layers = await Promise.all([
    windowsLayer('a', { gzip: false }),
    windowsLayer('b', {
      gzip: false,
      extra: [
        { name: 'Files/Windows/a.txt:ads', content: 'stream', pax: winPax() },
        { name: 'Files/link', type: 'symlink', linkname: 'Windows\\a.txt', pax: winPax(0x400) },
        { name: 'Files/hard', type: 'link', linkname: 'Files/Windows/b.txt' },
        { name: `Files/${'long-name-'.repeat(20)}`, content: 'pax path', pax: winPax() },
        { name: 'Files/Windows/.wh.gone', content: '' },
      ],
    }),
  ]);
  bases = layers.map((l) => l.tar);
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** Extracts `bytes` into a fresh folder, bounded; removes both afterwards. */
async function extract(bytes: Uint8Array, tally: Tally): Promise<void> {
  const id = run++;
  const file = join(work, `${id}.tar`);
  const dest = join(work, `${id}.out`);
  await writeFile(file, bytes);
  try {
    tally.see(await settlesTyped('extractLayerTar', () => extractLayerTar(file, dest), BOUND_MS));
  } finally {
    await rm(file, { force: true });
    await rm(dest, { recursive: true, force: true });
  }
}

describe('extractLayerTar (fuzz)', () => {
  it(
    `answers a layer or a typed error for tars with corrupted headers (${RUNS} runs)`,
    async () => {
      const tally = new Tally();
      const before = heapUsed();
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: 1 }),
          fc.array(headerEdit, { minLength: 1, maxLength: 3 }),
          fc.boolean(),
          fc.boolean(),
          async (which, edits, fix, gzip) => {
            const tar = editHeaders(bases[which] as Buffer, edits, fix);
            await extract(gzip ? gzipSync(tar) : tar, tally);
          },
        ),
        fuzzParams(RUNS),
      );
      expectHeapBounded(before, 64 * MiB, 'extractLayerTar');
      tally.expectBoth(0.02, 'extractLayerTar');
    },
    TEST_MS,
  );

  it(
    `answers for byte-mutated tars, cut-short bodies and damaged gzip (${RUNS} runs)`,
    async () => {
      const tally = new Tally();
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: 1 }),
          fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
          fc.constantFrom('tar', 'gzip-then-mutate', 'mutate-then-gzip'),
          async (which, ms, how) => {
            const tar = bases[which] as Buffer;
            const bytes =
              how === 'tar'
                ? mutate(tar, ms)
                : how === 'gzip-then-mutate'
                  ? mutate(gzipSync(tar), ms)
                  : gzipSync(mutate(tar, ms));
            await extract(bytes, tally);
          },
        ),
        fuzzParams(RUNS),
      );
      tally.expectBoth(0.02, 'extractLayerTar');
    },
    TEST_MS,
  );

  it(
    `answers for raw random bytes, plain and gzip (${Math.ceil(RUNS / 2)} runs)`,
    async () => {
      await mkdir(work, { recursive: true });
      const tally = new Tally();
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), async (bytes, gzip) => {
          await extract(gzip ? gzipSync(bytes) : bytes, tally);
        }),
        fuzzParams(Math.ceil(RUNS / 2)),
      );
    },
    TEST_MS,
  );
});
