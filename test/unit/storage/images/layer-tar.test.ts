import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError } from '../../../../src/storage/images/digest.js';
import {
  extractLayerTar,
  layerCompression,
  safeEntrySegments,
} from '../../../../src/storage/images/layer-tar.js';
import {
  NotAWindowsLayerError,
  UnsafeLayerPathError,
  UnsupportedLayerError,
} from '../../../../src/storage/images/registry-errors.js';
import { makeTar, SAMPLE_RAWSD, windowsLayer, winPax } from '../../../support/registry/push.js';
import { decodeTransportEntry } from '../../../support/transport-decode.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'layer-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tarFile(name: string, data: Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, data);
  return p;
}

describe('extractLayerTar', () => {
  it('writes the transport format: blobs in Files/, $wcidirs$ per folder, plain hives, tombstones.txt', async () => {
    const layer = await windowsLayer('app', {
      extra: [
        { name: 'Files/Windows/.wh.old.dll', content: '' },
        { name: 'Files/Windows/.wh..wh..opq', content: '' },
        { name: 'UtilityVM', pax: winPax(0x10) },
        {
          name: 'UtilityVM/Files/EFI/boot',
          content: 'efi',
          pax: { 'SCHILY.xattr.MSWINDOWS.fileattr': '32' },
        },
        { name: 'not-a-layer-root.txt', content: 'x' },
      ],
    });
    const src = await tarFile('layer.tar.gz', layer.blob);
    const out = join(dir, 'out');
    const progress: number[] = [];
    const result = await extractLayerTar(src, out, {
      expectedDiffId: layer.diffId,
      onProgress: (p) => progress.push(p.done),
    });
    expect(result.diffId).toBe(layer.diffId);
    expect(progress.at(-1)).toBe(layer.blob.length);
    expect(result.tombstones).toEqual(['\\Windows\\old.dll']);
    expect(result.opaque).toEqual(['Files/Windows']);
    expect(result.ignored).toEqual(['not-a-layer-root.txt']);
    // a file: attribute word + security descriptor + data
    const app = decodeTransportEntry(await readFile(join(out, 'Files/Windows/app.txt')));
    expect(app.attributes).toBe(0x20);
    expect(app.streams.map((s) => [s.id, s.data.toString(s.id === 3 ? 'base64' : 'utf8')])).toEqual([
      [3, SAMPLE_RAWSD],
      [1, 'layer app\n'],
    ]);
    // folders: the folder and a sibling .$wcidirs$ (attributes + security, no data)
    for (const folder of ['Files', 'Files/Windows', 'Hives']) {
      const d = decodeTransportEntry(await readFile(join(out, `${folder}.$wcidirs$`)));
      expect(d.attributes).toBe(0x10);
      expect(d.streams.map((s) => s.id)).toEqual([3]);
      expect((await stat(join(out, folder))).isDirectory()).toBe(true);
    }
    // hives and the utility VM are plain files
    expect(await readFile(join(out, 'Hives/System_Delta'), 'utf8')).toBe('hive app System');
    expect(await readFile(join(out, 'UtilityVM/Files/EFI/boot'), 'utf8')).toBe('efi');
    expect(existsSync(join(out, 'UtilityVM.$wcidirs$'))).toBe(false);
    expect(existsSync(join(out, 'Files/Windows/.wh.old.dll'))).toBe(false);
    expect(existsSync(join(out, 'not-a-layer-root.txt'))).toBe(false);
    expect(await readFile(join(out, 'tombstones.txt'), 'utf8')).toBe(
      '\ufeffVersion 1.0\n\\Windows\\old.dll\n',
    );
    // no sidecar any more: everything is inside the folder
    expect((await readdir(dir)).sort()).toEqual(['layer.tar.gz', 'out']);
    expect((await readdir(out)).sort()).toEqual([
      'Files',
      'Files.$wcidirs$',
      'Hives',
      'Hives.$wcidirs$',
      'UtilityVM',
      'tombstones.txt',
    ]);
  });

  it('reads uncompressed layers too (sniffed or by media type)', async () => {
    const layer = await windowsLayer('plain', { gzip: false });
    const src = await tarFile('layer.tar', layer.blob);
    const a = await extractLayerTar(src, join(dir, 'a'));
    const b = await extractLayerTar(src, join(dir, 'b'), { compression: layerCompression(layer.mediaType) });
    expect(a.diffId).toBe(layer.diffId);
    expect(b.diffId).toBe(layer.diffId);
    const plain = decodeTransportEntry(await readFile(join(dir, 'a/Files/Windows/plain.txt')));
    expect(plain.streams.at(-1)?.data.toString()).toBe('layer plain\n');
  });

  it('rejects a tar without Files/ (a Linux layer) with NotAWindowsLayerError', async () => {
    const tar = await makeTar([
      { name: 'bin' },
      { name: 'bin/sh', content: '#!' },
      { name: 'etc/passwd', content: 'root' },
    ]);
    const src = await tarFile('linux.tar', tar);
    const err = await extractLayerTar(src, join(dir, 'out')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAWindowsLayerError);
    expect((err as NotAWindowsLayerError).code).toBe('NOT_A_WINDOWS_LAYER');
    expect((err as Error).message).toMatch(/no Files\//);
  });

  it.each([
    ['Files/../../escape.txt', /\.\./],
    ['/etc/evil', /absolute/],
    ['C:/Windows/evil', /absolute/],
    ['Files\\..\\..\\evil', /\.\./],
  ])('rejects the path-traversal entry %s with UnsafeLayerPathError', async (name, why) => {
    const tar = await makeTar([
      { name: 'Files' },
      { name: 'Files/ok.txt', content: 'ok' },
      { name, content: 'evil' },
    ]);
    const src = await tarFile('evil.tar', tar);
    const err = await extractLayerTar(src, join(dir, 'sub', 'out')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerPathError);
    expect((err as Error).message).toMatch(why);
    expect(existsSync(join(dir, 'escape.txt'))).toBe(false);
    expect(existsSync(join(dir, 'sub', 'escape.txt'))).toBe(false);
    expect(existsSync(join(dir, 'sub', 'evil'))).toBe(false);
  });

  it('rejects a hard link that points outside the layer', async () => {
    const tar = await makeTar([
      { name: 'Files' },
      { name: 'Files/x', type: 'link', linkname: '../../etc/passwd' },
    ]);
    const err = await extractLayerTar(await tarFile('l.tar', tar), join(dir, 'out')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeLayerPathError);
  });

  it('checks the diff id of the uncompressed content', async () => {
    const layer = await windowsLayer('d');
    const other = await windowsLayer('e');
    const err = await extractLayerTar(await tarFile('d.tgz', layer.blob), join(dir, 'out'), {
      expectedDiffId: other.diffId,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DigestMismatchError);
    expect((err as DigestMismatchError).actual).toBe(layer.diffId);
  });

  it('knows layer media types and refuses zstd', () => {
    expect(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(() => layerCompression('application/vnd.oci.image.layer.v1.tar+zstd')).toThrow(
      UnsupportedLayerError,
    );
    expect(() => layerCompression('application/json')).toThrow(UnsupportedLayerError);
  });

  it('splits entry names safely', () => {
    expect(safeEntrySegments('./Files/a//b/')).toEqual(['Files', 'a', 'b']);
    expect(() => safeEntrySegments('Files/a\0b')).toThrow(UnsafeLayerPathError);
    expect(() => safeEntrySegments('\\\\server\\share')).toThrow(UnsafeLayerPathError);
    expect(() => safeEntrySegments('Files/C:/x')).toThrow(UnsafeLayerPathError);
  });
});
