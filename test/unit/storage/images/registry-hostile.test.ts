/**
 * A hostile registry on loopback (test/support/hostile-registry.ts), one
 * scenario per way a registry can misbehave, each driving the real pull path
 * (registry client, blob cache, layer extraction; only the HCS import is a
 * fake). Each pull must end in a typed error within its (shortened) limits,
 * read a bounded number of bytes, and leave no partial files behind, except
 * the `.partial` of an interrupted download, which is kept on purpose so that
 * the next pull resumes it (blob-cache.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HcsSandboxError } from '../../../../src/internal/errors.js';
import { DigestMismatchError } from '../../../../src/storage/images/digest.js';
import { OwnImageSource } from '../../../../src/storage/images/own-store.js';
import { pullImage } from '../../../../src/storage/images/pull.js';
import { NotAWindowsLayerError, RegistryError } from '../../../../src/storage/images/registry-errors.js';
import type { RegistryLimits } from '../../../../src/storage/images/registry-limits.js';
import type { Progress } from '../../../../src/storage/types.js';
import { type HostileRegistry, startHostileRegistry } from '../../../support/hostile-registry.js';
import { fakeImporter } from '../../../support/registry/fake-import.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const ENDLESS = 32 * MiB;
const LIMITS: Partial<RegistryLimits> = {
  maxManifestBytes: 64 * KiB,
  maxConfigBytes: 64 * KiB,
  maxTokenBytes: 64 * KiB,
  maxErrorBodyBytes: 64 * KiB,
  headersTimeoutMs: 400,
  idleTimeoutMs: 400,
  bodyTimeoutMs: 1000,
  minBytesPerSecond: 1024,
  maxInflateRatio: 4,
  minInflateBytes: 1 * MiB,
};
/** Every failure must come well within this (the defaults would take minutes). */
const BOUND_MS = 4000;

let registry: HostileRegistry;
beforeAll(async () => {
  registry = await startHostileRegistry({ endlessBytes: ENDLESS });
});
afterAll(() => registry.close());

let work: string;
let cacheDir: string;
let storeRoot: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'registry-hostile-'));
  cacheDir = join(work, 'blobs');
  storeRoot = join(work, 'store');
  return () => rm(work, { recursive: true, force: true });
});

interface Outcome {
  err: unknown;
  elapsedMs: number;
  progress: Progress[];
}

/** Pulls `reference`; a pull that outlives twice the bound is cut here so the test fails instead of hanging. */
async function pull(reference: string): Promise<Outcome> {
  const progress: Progress[] = [];
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`pull did not end within ${2 * BOUND_MS} ms`)), 2 * BOUND_MS);
  });
  const err = await Promise.race([
    pullImage(reference, {
      store: new OwnImageSource({ root: storeRoot }),
      importLayer: fakeImporter().importLayer,
      hostBuild: 20348,
      cacheDir,
      limits: LIMITS,
      onProgress: (p) => progress.push(p),
    }).then(
      () => undefined,
      (e: unknown) => e,
    ),
    hang,
  ]);
  clearTimeout(timer);
  return { err, elapsedMs: Date.now() - started, progress };
}

/** Pulls `<host>/<scenario>/x:1` expecting `type` within the bound; answers the error. */
async function pullFails<E extends HcsSandboxError>(
  scenario: string,
  type: new (...args: never[]) => E,
  host = registry.host,
): Promise<E & { elapsedMs: number; progress: Progress[] }> {
  const { err, elapsedMs, progress } = await pull(`${host}/${scenario}/x:1`);
  expect(err).toBeInstanceOf(type);
  expect(elapsedMs).toBeLessThan(BOUND_MS);
  if (err instanceof RegistryError) expect(err.message).toContain(host);
  return Object.assign(err as E, { elapsedMs, progress });
}

/** The blob cache's files. */
async function cacheFiles(): Promise<string[]> {
  return readdir(join(cacheDir, 'sha256')).catch(() => []);
}

/** Regular files anywhere in the store (a failed pull adds none: no layer, no staging leftovers). */
async function storeFiles(): Promise<string[]> {
  const entries = await readdir(storeRoot, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

async function expectNothingLeft(): Promise<void> {
  expect(await cacheFiles()).toEqual([]);
  expect(await storeFiles()).toEqual([]);
}

/** Only the resumable `.partial` of the layer may stay after an interrupted download. */
async function expectOnlyResumablePartial(): Promise<void> {
  const layer = registry.image.layers[0]!.digest.slice('sha256:'.length);
  expect(await cacheFiles()).toEqual([`${layer}.partial`]);
  expect(await storeFiles()).toEqual([]);
}

describe('pullImage against a hostile registry', { timeout: 10_000 }, () => {
  it('the valid image pulls (the harness itself can succeed)', async () => {
    const { err } = await pull(`${registry.host}/valid/x:1`);
    expect(err).toBeUndefined();
    expect(await cacheFiles()).toEqual([]);
  });

  it('an endless manifest body is cut at maxManifestBytes', async () => {
    const err = await pullFails('endless-manifest', RegistryError);
    expect(err.message).toMatch(/more than 65536 bytes/);
    expect(registry.sent.get('endless-manifest')).toBeLessThan(ENDLESS / 2);
    await expectNothingLeft();
  });

  it('an oversized manifest (Content-Length over the cap) is refused before its body is read', async () => {
    const err = await pullFails('oversized-manifest', RegistryError);
    expect(err.message).toMatch(/more than 65536 bytes/);
    await expectNothingLeft();
  });

  it('an endless error body is cut at maxErrorBodyBytes; the status is still reported', async () => {
    const err = await pullFails('endless-error', RegistryError);
    expect(err.status).toBe(404);
    expect(registry.sent.get('endless-error')).toBeLessThan(ENDLESS / 2);
    await expectNothingLeft();
  });

  it('an endless config body is cut at maxConfigBytes', async () => {
    const err = await pullFails('endless-config', RegistryError);
    expect(err.message).toMatch(/more than 65536 bytes/);
    expect(registry.sent.get('endless-config')).toBeLessThan(ENDLESS / 2);
    await expectNothingLeft();
  });

  it('an endless token answer is cut at maxTokenBytes', async () => {
    const err = await pullFails('token-endless', RegistryError);
    expect(err.message).toMatch(/token.*more than 65536 bytes/);
    expect(registry.sent.get('token-endless')).toBeLessThan(ENDLESS / 2);
    await expectNothingLeft();
  });

  it('a server that accepts and never answers times out on the headers', async () => {
    const err = await pullFails('silent', RegistryError);
    expect(err.message).toMatch(/sent no answer within 0.4 s/);
    await expectNothingLeft();
  });

  it('headers trickled a line at a time time out on the headers deadline', async () => {
    const err = await pullFails('slow-headers', RegistryError);
    expect(err.message).toMatch(/sent no answer within 0.4 s/);
    await expectNothingLeft();
  });

  it('a manifest body that stalls times out when idle', async () => {
    const err = await pullFails('stalled-manifest', RegistryError);
    expect(err.message).toMatch(/sent nothing for 0.4 s/);
    await expectNothingLeft();
  });

  it('a manifest body trickled inside the idle timeout ends at bodyTimeoutMs', async () => {
    const err = await pullFails('slow-manifest', RegistryError);
    expect(err.message).toMatch(/took more than 1 s in all/);
    await expectNothingLeft();
  });

  it('a layer download that stalls times out when idle; its .partial stays for resume', async () => {
    const err = await pullFails('stalled-blob', RegistryError);
    expect(err.message).toMatch(/layer .* sent nothing for 0.4 s/);
    await expectOnlyResumablePartial();
  });

  it('a layer trickled inside the idle timeout fails below minBytesPerSecond; its .partial stays', async () => {
    const err = await pullFails('slow-blob', RegistryError);
    expect(err.message).toMatch(/layer .* bytes in 0\.\d+ s, slower than 1024 bytes\/s/);
    await expectOnlyResumablePartial();
  });

  it('a layer body that runs past its descriptor size is cut there; the partial is removed', async () => {
    const err = await pullFails('endless-blob', DigestMismatchError);
    expect(err.message).toMatch(/descriptor says/);
    expect(registry.sent.get('endless-blob')).toBeLessThan(ENDLESS / 2);
    await expectNothingLeft();
  });

  it('a connection dropped mid-manifest is a RegistryError with the cause kept', async () => {
    const err = await pullFails('dropped-manifest', RegistryError);
    expect(err.status).toBe(0);
    expect(err.cause).toBeInstanceOf(Error);
    await expectNothingLeft();
  });

  it('a connection dropped mid-layer is a RegistryError; its .partial stays for resume', async () => {
    const err = await pullFails('dropped-blob', RegistryError);
    expect(err.cause).toBeInstanceOf(Error);
    await expectOnlyResumablePartial();
  });

  it('a redirect loop is a RegistryError', async () => {
    const err = await pullFails('redirect-loop', RegistryError);
    expect(err.message).toMatch(/redirect/);
    await expectNothingLeft();
  });

  it('a layer whose bytes do not match its digest is refused; the partial is removed', async () => {
    const err = await pullFails('wrong-digest', DigestMismatchError);
    expect(err.code).toBe('DIGEST_MISMATCH');
    await expectNothingLeft();
  });

  it('a gzip bomb is refused at the inflation cap without inflating it all; its blob is removed', async () => {
    const err = await pullFails('gzip-bomb', NotAWindowsLayerError);
    expect(err.code).toBe('NOT_A_WINDOWS_LAYER');
    expect(err.message).toMatch(/inflates past 1048576 bytes/);
    // The extraction stopped in the first part of the (compressed) blob.
    const extract = err.progress.filter((p) => p.phase === 'extract');
    const read = Math.max(0, ...extract.map((p) => p.done));
    expect(read).toBeLessThan(registry.bomb.layers[0]!.size);
    await expectNothingLeft();
  });

  it('a refused connection is a RegistryError naming the host, with fetch’s error as cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await pullFails('refused', RegistryError, `127.0.0.1:${port}`);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.cause).toBeInstanceOf(TypeError);
    await expectNothingLeft();
  });
});
