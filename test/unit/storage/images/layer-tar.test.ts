import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError } from '../../../../src/storage/images/digest.js';
import {
  extractLayerTar,
  type LayerSidecar,
  layerCompression,
  layerSidecarPath,
  safeEntrySegments,
} from '../../../../src/storage/images/layer-tar.js';
import {
  NotAWindowsLayerError,
  UnsafeLayerPathError,
  UnsupportedLayerError,
} from '../../../../src/storage/images/registry-errors.js';
import { makeTar, SAMPLE_RAWSD, windowsLayer, winPax } from '../../../support/registry/push.js';

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
  it('extracts Files/ and Hives/ and keeps NTFS metadata, reparse points and whiteouts in the sidecar', async () => {
    const layer = await windowsLayer('app', {
      extra: [
        { name: 'Files/Windows/link', type: 'symlink', linkname: 'C:\\Windows\\app.txt', pax: winPax(0x400) },
        {
          name: 'Files/junction',
          type: 'symlink',
          linkname: 'C:\\Windows',
          pax: { ...winPax(0x410), 'MSWINDOWS.mountpoint': '1' },
        },
        { name: 'Files/Windows/hard', type: 'link', linkname: 'Files/Windows/app.txt' },
        { name: 'Files/Windows/.wh.old.dll', content: '' },
        { name: 'Files/Windows/.wh..wh..opq', content: '' },
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
    expect(await readFile(join(out, 'Files/Windows/app.txt'), 'utf8')).toBe('layer app\n');
    expect(await readFile(join(out, 'Hives/app_Delta'), 'utf8')).toBe('hive app');
    expect(await readFile(join(out, 'UtilityVM/Files/EFI/boot'), 'utf8')).toBe('efi');
    // hard link shares the inode; symlinks are not created on disk
    expect((await stat(join(out, 'Files/Windows/hard'))).ino).toBe(
      (await stat(join(out, 'Files/Windows/app.txt'))).ino,
    );
    expect(existsSync(join(out, 'Files/Windows/link'))).toBe(false);
    expect(existsSync(join(out, 'Files/Windows/.wh.old.dll'))).toBe(false);
    expect(existsSync(join(out, 'not-a-layer-root.txt'))).toBe(false);
    expect(await readFile(join(out, 'tombstones.txt'), 'utf8')).toBe(
      '\ufeffVersion 1.0\n\\Windows\\old.dll\n',
    );

    const sidecar = JSON.parse(await readFile(layerSidecarPath(out), 'utf8')) as LayerSidecar;
    expect(result.sidecarPath).toBe(layerSidecarPath(out));
    expect(sidecar.diffId).toBe(layer.diffId);
    expect(sidecar.entries['Files/Windows/app.txt']).toEqual({
      fileAttributes: 0x20,
      securityDescriptor: SAMPLE_RAWSD,
    });
    expect(sidecar.entries.Files).toEqual({ fileAttributes: 0x10, securityDescriptor: SAMPLE_RAWSD });
    expect(sidecar.entries['Files/Windows/link']?.reparse).toEqual({
      target: 'C:\\Windows\\app.txt',
      mountPoint: false,
    });
    expect(sidecar.entries['Files/junction']?.reparse).toEqual({ target: 'C:\\Windows', mountPoint: true });
    expect(sidecar.entries['Files/Windows/hard']?.hardLink).toBe('Files/Windows/app.txt');
    expect(sidecar.entries['UtilityVM/Files/EFI/boot']?.fileAttributes).toBe(32);
    expect(sidecar.whiteouts).toEqual(['Files/Windows/old.dll']);
    expect(sidecar.opaque).toEqual(['Files/Windows']);
    expect(sidecar.ignored).toEqual(['not-a-layer-root.txt']);
    // the sidecar lives beside the folder, not in it
    expect((await readdir(out)).sort()).toEqual(['Files', 'Hives', 'UtilityVM', 'tombstones.txt']);
  });

  it('reads uncompressed layers too (sniffed or by media type)', async () => {
    const layer = await windowsLayer('plain', { gzip: false });
    const src = await tarFile('layer.tar', layer.blob);
    const a = await extractLayerTar(src, join(dir, 'a'));
    const b = await extractLayerTar(src, join(dir, 'b'), { compression: layerCompression(layer.mediaType) });
    expect(a.diffId).toBe(layer.diffId);
    expect(b.diffId).toBe(layer.diffId);
    expect(await readFile(join(dir, 'a/Files/Windows/plain.txt'), 'utf8')).toBe('layer plain\n');
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
