/**
 * Hostile archives (issue 13, items 5 and 12): a truncated or corrupt tar or
 * gzip, and entries the file system refuses, end in a typed error naming the
 * file or layer, with the raw failure as `cause`, in bounded time, and leave
 * no temp folder behind.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { HcsSandboxError } from '../../../../src/internal/errors.js';
import { extractLayerTar } from '../../../../src/storage/images/layer-tar.js';
import { loadImage } from '../../../../src/storage/images/load.js';
import { OwnImageSource } from '../../../../src/storage/images/own-store.js';
import { ImageFormatError, NotAWindowsLayerError } from '../../../../src/storage/images/registry-errors.js';
import { fakeImporter, scan } from '../../../support/registry/fake-import.js';
import {
  type BuiltLayer,
  makeTar,
  sha256,
  type TarEntrySpec,
  windowsConfig,
  windowsLayer,
  winPax,
} from '../../../support/registry/push.js';

const SETTLE_MS = 5000;

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tar-faults-'));
  return () => rm(work, { recursive: true, force: true });
});

/** A `docker save` tar of one image; `layerBytes` replaces the layer's content (a cut layer). */
async function dockerSave(layer: BuiltLayer, layerBytes: Buffer = layer.blob): Promise<Buffer> {
  const config = windowsConfig([layer.diffId], '10.0.20348.2227');
  const configName = `${sha256(config).slice('sha256:'.length)}.json`;
  const entries: TarEntrySpec[] = [
    { name: configName, content: config },
    { name: 'l0' },
    { name: 'l0/layer.tar', content: layerBytes },
    {
      name: 'manifest.json',
      content: JSON.stringify([{ Config: configName, RepoTags: ['x/y:1'], Layers: ['l0/layer.tar'] }]),
    },
    { name: 'repositories', content: '{}' },
  ];
  return makeTar(entries);
}

let n = 0;
/** Runs `loadImage` on `data` in a fresh store; resolves to what it settled with, or fails the test past the bound. */
async function load(data: Buffer): Promise<{ error?: unknown; leftovers: string[] }> {
  const p = join(work, `archive-${n++}`);
  await writeFile(p, data);
  const root = join(work, `store-${n}`);
  const store = new OwnImageSource({ root });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    loadImage(p, { store, importLayer: fakeImporter().importLayer }).then(
      () => ({}),
      (error: unknown) => ({ error }),
    ),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`loadImage did not settle in ${SETTLE_MS} ms`)), SETTLE_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  return { ...outcome, leftovers: await scan(join(root, 'tmp')) };
}

function cuts(length: number, step: number, extra: number[] = []): number[] {
  const at = new Set(extra.filter((c) => c > 0 && c < length));
  for (let c = step; c < length; c += step) at.add(c);
  return [...at].sort((a, b) => a - b);
}

describe('loadImage on a truncated archive', () => {
  it('settles with a typed error at every cut of a plain tar, and leaves no temp folder', async () => {
    const layer = await windowsLayer('base');
    const tar = await dockerSave(layer);
    const start = tar.indexOf(layer.blob);
    const inLayer = [1, 10, 100, layer.blob.length >> 1, layer.blob.length - 1].map((o) => start + o);
    const failures: string[] = [];
    for (const cut of cuts(tar.length, 512, [1, 100, ...inLayer])) {
      const { error, leftovers } = await load(tar.subarray(0, cut));
      // A cut after the last entry's content can still be a whole archive.
      if (error !== undefined && !(error instanceof HcsSandboxError)) failures.push(`${cut}: raw ${error}`);
      if (leftovers.length > 0) failures.push(`${cut}: left ${leftovers.join(', ')}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('settles with a typed error at every cut of a gzip tar, and leaves no temp folder', async () => {
    const tar = gzipSync(await dockerSave(await windowsLayer('base')));
    const failures: string[] = [];
    for (const cut of cuts(tar.length, 37, [1, 2, 10])) {
      const { error, leftovers } = await load(tar.subarray(0, cut));
      if (!(error instanceof HcsSandboxError)) failures.push(`${cut}: ${String(error ?? 'loaded')}`);
      if (leftovers.length > 0) failures.push(`${cut}: left ${leftovers.join(', ')}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('names the archive and keeps the tar error as the cause', async () => {
    const tar = await dockerSave(await windowsLayer('base'));
    const { error } = await load(tar.subarray(0, (tar.length >> 1) + 7));
    expect(error).toBeInstanceOf(ImageFormatError);
    expect((error as Error).message).toMatch(
      /archive-\d+: truncated or corrupt tar \(Unexpected end of data\)/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('settles with a typed error when a gzip layer inside a whole archive is cut', async () => {
    const layer = await windowsLayer('base');
    const failures: string[] = [];
    for (const cut of cuts(layer.blob.length, 23, [1, 2, 10])) {
      const { error, leftovers } = await load(await dockerSave(layer, layer.blob.subarray(0, cut)));
      if (!(error instanceof HcsSandboxError)) failures.push(`${cut}: ${String(error ?? 'loaded')}`);
      if (leftovers.length > 0) failures.push(`${cut}: left ${leftovers.join(', ')}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('loadImage on a corrupt archive', () => {
  it('maps an invalid tar header to ImageFormatError with the cause', async () => {
    const garbage = Buffer.alloc(2048, 0x41);
    const { error, leftovers } = await load(garbage);
    expect(error).toBeInstanceOf(ImageFormatError);
    expect((error as Error).message).toMatch(/truncated or corrupt tar \(Invalid tar header/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(leftovers).toEqual([]);
  });

  it('maps a corrupt gzip stream to ImageFormatError with the zlib error as the cause', async () => {
    const gz = gzipSync(await dockerSave(await windowsLayer('base')));
    gz.fill(0x55, 20, 60);
    const { error, leftovers } = await load(gz);
    expect(error).toBeInstanceOf(ImageFormatError);
    expect((error as Error).message).toMatch(/truncated or corrupt gzip/);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toMatch(/^Z_/);
    expect(leftovers).toEqual([]);
  });

  it('maps an entry name the file system refuses (too long) to ImageFormatError naming the entry', async () => {
    const long = `dir/${'a'.repeat(300)}`;
    const { error, leftovers } = await load(await makeTar([{ name: long, content: 'x' }]));
    expect(error).toBeInstanceOf(ImageFormatError);
    expect((error as Error).message).toContain(`entry ${JSON.stringify(long)}`);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENAMETOOLONG');
    expect(leftovers).toEqual([]);
  });
});

describe('extractLayerTar on a hostile layer', () => {
  async function extract(data: Buffer): Promise<unknown> {
    const src = join(work, `layer-${n++}.tar`);
    await writeFile(src, data);
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      extractLayerTar(src, join(work, `out-${n}`), { name: 'layer sha256:abc' }).then(
        () => undefined,
        (error: unknown) => error,
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('extractLayerTar did not settle')), SETTLE_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  it('maps a truncated layer (plain and gzip, at many cuts) to NotAWindowsLayerError with the cause', async () => {
    const layer = await windowsLayer('base');
    const failures: string[] = [];
    for (const [label, data, step] of [
      ['tar', layer.tar, 97],
      ['gzip', layer.blob, 13],
    ] as const) {
      for (const cut of cuts(data.length, step, [1, 10])) {
        const error = await extract(data.subarray(0, cut));
        if (!(error instanceof HcsSandboxError))
          failures.push(`${label} ${cut}: ${String(error ?? 'extracted')}`);
      }
    }
    expect(failures).toEqual([]);
    const error = await extract(layer.blob.subarray(0, layer.blob.length >> 1));
    expect(error).toBeInstanceOf(NotAWindowsLayerError);
    expect((error as NotAWindowsLayerError).layer).toBe('layer sha256:abc');
    expect((error as Error).message).toMatch(/truncated or corrupt gzip/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  }, 120_000);

  it('maps an invalid tar header to NotAWindowsLayerError with the cause', async () => {
    const error = await extract(Buffer.alloc(1024, 0x41));
    expect(error).toBeInstanceOf(NotAWindowsLayerError);
    expect((error as Error).message).toMatch(/Invalid tar header/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('maps a name the file system refuses to NotAWindowsLayerError naming the entry', async () => {
    const long = `Files/${'a'.repeat(300)}`;
    const tar = await makeTar([
      { name: 'Files', pax: winPax(0x10) },
      { name: long, content: 'x', pax: winPax(0x20) },
    ]);
    const error = await extract(tar);
    expect(error).toBeInstanceOf(NotAWindowsLayerError);
    expect((error as Error).message).toContain(JSON.stringify(long));
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENAMETOOLONG');
  });

  it('refuses a hard link to a missing target with NotAWindowsLayerError', async () => {
    const layer = await windowsLayer('base', {
      gzip: false,
      extra: [{ name: 'Files/Windows/link.dll', type: 'link', linkname: 'Files/Windows/missing.dll' }],
    });
    const error = await extract(layer.tar);
    expect(error).toBeInstanceOf(NotAWindowsLayerError);
    expect((error as Error).message).toContain('missing.dll');
  });
});
