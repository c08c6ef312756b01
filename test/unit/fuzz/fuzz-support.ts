/**
 * What every property test of test/unit/fuzz/ shares: the one fixed seed, the
 * rule that a parser answers a result or an `HcsSandboxError` (anything else,
 * a raw `TypeError`/`RangeError`/`Error`, is a bug), a time bound on every
 * call (a hang fails the run instead of the whole suite), a heap bound, and
 * byte mutations of valid inputs (so most runs get past the first check).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { HcsSandboxError } from '../../../src/internal/errors.js';

/** Fixed, so a failure reproduces; fast-check prints the path to the minimal counterexample. */
export const FUZZ_SEED = 0x13_f022;

/** Runs per property: `n` in CI; `HCS_FUZZ_RUNS_FACTOR` multiplies it for a longer local search. */
export function fuzzRuns(n: number): number {
  const factor = Number(process.env.HCS_FUZZ_RUNS_FACTOR ?? 1);
  return Number.isFinite(factor) && factor > 0 ? Math.ceil(n * factor) : n;
}

/** `fc.assert` parameters: the fixed seed and `numRuns` runs. */
export function fuzzParams(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns, endOnFailure: false };
}

/** Fails with what was thrown when it is not one of ours. */
export function expectTyped(err: unknown, what: string): void {
  if (err instanceof HcsSandboxError) return;
  const shown = err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack}` : String(err);
  throw new Error(`${what}: threw something other than an HcsSandboxError: ${shown}`);
}

/** Runs `work` and accepts a result or an `HcsSandboxError`, within `boundMs`. */
export async function settlesTyped<T>(
  what: string,
  work: () => T | Promise<T>,
  boundMs: number,
): Promise<T | HcsSandboxError> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(`${what}: did not settle within ${boundMs} ms`)), boundMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(work), hang]);
  } catch (err) {
    if (err instanceof HangError) throw err;
    expectTyped(err, what);
    return err as HcsSandboxError;
  } finally {
    clearTimeout(timer);
  }
}

/** The synchronous form: a parser that loops forever cannot be raced, but its time can be bounded after. */
export function returnsTyped<T>(what: string, work: () => T, boundMs: number): T | HcsSandboxError {
  const started = performance.now();
  let out: T | HcsSandboxError;
  try {
    out = work();
  } catch (err) {
    expectTyped(err, what);
    out = err as HcsSandboxError;
  }
  const took = performance.now() - started;
  if (took > boundMs) throw new Error(`${what}: took ${took.toFixed(0)} ms (bound ${boundMs} ms)`);
  return out;
}

class HangError extends Error {}

/**
 * Counts results and typed errors of a property's runs, so a test can check its
 * generator reaches both (mutations that all fail the first check test little).
 */
export class Tally {
  results = 0;
  errors = 0;
  see(out: unknown): void {
    if (out instanceof HcsSandboxError) this.errors++;
    else this.results++;
  }
  /** Fails unless at least `minShare` of the runs ended each way. */
  expectBoth(minShare: number, what: string): void {
    const total = this.results + this.errors;
    if (this.results < total * minShare || this.errors < total * minShare) {
      throw new Error(`${what}: ${this.results} results and ${this.errors} typed errors of ${total} runs`);
    }
  }
}

let collect: (() => void) | undefined;
/** A full garbage collection (the flag is set at run time; vitest's workers do not pass --expose-gc). */
function gc(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/** Heap in use after a full collection. */
export function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Fails when the heap grew by more than `maxGrowthBytes` since `before` (both after a collection). */
export function expectHeapBounded(before: number, maxGrowthBytes: number, what: string): void {
  const growth = heapUsed() - before;
  if (growth > maxGrowthBytes) {
    throw new Error(`${what}: heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB after the runs`);
  }
}

/** One change to a byte string. `at` is a fraction of the length, so it fits any input. */
export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number };

/** Where in the input, uniformly (fast-check's default bias would put most changes at byte 0). */
const fraction = fc.noBias(fc.integer({ min: 0, max: 0xffff })).map((n) => n / 0x10000);
const edgeU32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 512, 4096),
  fc.nat({ max: 0xffffffff }),
);

/** In-place changes weigh most: a shift (insert, delete) or a cut breaks everything after it. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fraction, bit: fc.nat({ max: 7 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set' as const), at: fraction, value: fc.nat({ max: 255 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('u32' as const), at: fraction, value: edgeU32 }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fraction }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fraction,
      bytes: fc.uint8Array({ maxLength: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      at: fraction,
      length: fc.integer({ min: 1, max: 64 }),
    }),
  },
);

/** Applies `mutations` in order to a copy of `base`; `focus` narrows where they land (`[start, end)` bytes). */
export function mutate(
  base: Uint8Array,
  mutations: readonly ByteMutation[],
  focus?: { start: number; end: number },
): Uint8Array {
  let bytes = Buffer.from(base);
  for (const m of mutations) {
    const start = Math.min(focus?.start ?? 0, bytes.length);
    const end = Math.min(focus?.end ?? bytes.length, bytes.length);
    const at = start + Math.floor(m.at * Math.max(0, end - start));
    switch (m.kind) {
      case 'flip':
        if (at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << m.bit);
        break;
      case 'set':
        if (at < bytes.length) bytes[at] = m.value;
        break;
      case 'u32':
        if (at + 4 <= bytes.length) bytes.writeUInt32LE(m.value >>> 0, at);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        break;
    }
  }
  return bytes;
}

/** A valid input mutated a few times, or now and then raw random bytes. */
export function mutatedOrRandom(
  bases: readonly Uint8Array[],
  options: { maxMutations?: number; maxRandomLength?: number } = {},
): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    {
      weight: 9,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...bases),
          fc.array(byteMutation, { minLength: 1, maxLength: options.maxMutations ?? 4 }),
        )
        .map(([base, ms]) => mutate(base, ms)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: options.maxRandomLength ?? 2048 }) },
  );
}
