/**
 * Extraction of a Windows-format layer tar into the layer "transport form"
 * (`Files\`, `Hives\`, `UtilityVM\`, `tombstones.txt`) that HcsImportLayer takes.
 *
 * Windows layer tars (written by hcsshim/go-winio `backuptar`) carry NTFS
 * metadata in PAX records: `MSWINDOWS.rawsd` (a base64 self-relative security
 * descriptor), `MSWINDOWS.sd` (SDDL, older writers), `MSWINDOWS.fileattr`
 * (decimal FILE_ATTRIBUTE_*), `MSWINDOWS.mountpoint` (a symlink entry that is a
 * junction), `MSWINDOWS.xattr.<name>` (base64 extended attributes) and
 * `LIBARCHIVE.creationtime`; older writers put them under `SCHILY.xattr.`.
 * Reparse points travel as symlink entries. Plain Node cannot apply any of this
 * to files, so it is kept in a sidecar manifest (`<dir>.wclayer.json`, beside
 * the folder, not in it) for the Windows importer to apply with BackupWrite
 * before/while calling HcsImportLayer. UNVERIFIED on real Windows: whether
 * HcsImportLayer accepts a folder produced this way once the sidecar has been
 * applied, and whether it reads `tombstones.txt` like vmcompute's ImportLayer.
 *
 * Symlink/junction entries are never created on disk (they could point
 * anywhere); hard links are created only between entries of the same layer.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Progress } from '../types.js';
import { DigestMismatchError } from './digest.js';
import { NotAWindowsLayerError, UnsafeLayerPathError, UnsupportedLayerError } from './registry-errors.js';
import { type TarWalkOptions, walkTar, writeEntryFile } from './tar-walk.js';

export type LayerCompression = 'gzip' | 'none';

/** Top-level folders of a Windows layer; anything else in the tar is skipped and listed in `ignored`. */
const ROOTS = ['Files', 'Hives', 'UtilityVM'];

/** Which decompression a layer media type needs. Throws `UnsupportedLayerError` for zstd and non-layers. */
export function layerCompression(mediaType: string): LayerCompression {
  switch (mediaType) {
    case 'application/vnd.oci.image.layer.v1.tar':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
    case 'application/vnd.docker.image.rootfs.diff.tar':
      return 'none';
    case 'application/vnd.oci.image.layer.v1.tar+gzip':
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
    case 'application/vnd.docker.image.rootfs.diff.tar.gzip':
    case 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
      return 'gzip';
    default:
      if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) {
        throw new UnsupportedLayerError(mediaType, 'zstd-compressed layers are not supported yet');
      }
      throw new UnsupportedLayerError(mediaType, 'not a tar or tar+gzip layer');
  }
}

/** NTFS metadata of one entry, as found in its PAX records. */
export interface LayerEntryMeta {
  /** FILE_ATTRIBUTE_* bits (`MSWINDOWS.fileattr`). */
  fileAttributes?: number;
  /** Self-relative security descriptor, base64 (`MSWINDOWS.rawsd`). */
  securityDescriptor?: string;
  /** Security descriptor in SDDL (`MSWINDOWS.sd`, older writers). */
  sddl?: string;
  /** A reparse point (tar symlink entry): its target, and whether it is a junction (`MSWINDOWS.mountpoint`). */
  reparse?: { target: string; mountPoint: boolean };
  /** A hard link to another entry of this layer (path relative to the layer root). */
  hardLink?: string;
  /** Extended attributes, base64 by name (`MSWINDOWS.xattr.<name>`). */
  extendedAttributes?: Record<string, string>;
  /** FILETIME as decimal or the raw `LIBARCHIVE.creationtime` text. */
  creationTime?: string;
}

/** The sidecar written beside an extracted layer (`<dir>.wclayer.json`). */
export interface LayerSidecar {
  version: 1;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Metadata by entry path (forward slashes, relative to the layer folder), only for entries that have some. */
  entries: Record<string, LayerEntryMeta>;
  /** Deleted paths (`.wh.` whiteouts), relative to the layer folder. Those under `Files/` also go to `tombstones.txt`. */
  whiteouts: string[];
  /** Folders marked opaque (`.wh..wh..opq`): not expressible in Windows layers; recorded only. */
  opaque: string[];
  /** Entries outside `Files/`, `Hives/`, `UtilityVM/` (skipped). */
  ignored: string[];
}

export interface ExtractLayerOptions {
  /** Default: sniffed from the file's first bytes (gzip magic). */
  compression?: LayerCompression;
  /** When given, the uncompressed content must hash to it (`DigestMismatchError` otherwise). */
  expectedDiffId?: string;
  /** What to call the layer in errors and progress (default: the file path). */
  name?: string;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface ExtractedLayer {
  dir: string;
  sidecarPath: string;
  diffId: string;
  /** Uncompressed tar size. */
  tarBytes: number;
  /** Bytes of file content written. */
  contentBytes: number;
  entries: number;
}

/** Where the sidecar of an extracted layer folder lives. */
export function layerSidecarPath(dir: string): string {
  return `${dir.replace(/[\\/]+$/, '')}.wclayer.json`;
}

/**
 * Splits a tar entry name into safe segments, or throws `UnsafeLayerPathError`
 * for absolute paths, drive letters, UNC paths, `..` segments and NUL bytes.
 */
export function safeEntrySegments(name: string): string[] {
  if (name.includes('\0')) throw new UnsafeLayerPathError(name, 'NUL byte in name');
  if (/^[\\/]/.test(name) || /^[a-zA-Z]:/.test(name)) throw new UnsafeLayerPathError(name, 'absolute path');
  const segments = name.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  for (const s of segments) {
    if (s === '..') throw new UnsafeLayerPathError(name, 'parent-directory segment (..)');
    if (/^[a-zA-Z]:$/.test(s)) throw new UnsafeLayerPathError(name, 'drive letter segment');
  }
  return segments;
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * Extracts a Windows layer tar (gzip or plain) into `destDir` (created; must not
 * hold anything yet) and writes the sidecar beside it. On error the caller
 * removes `destDir` and the sidecar (`removeExtractedLayer`).
 */
export async function extractLayerTar(
  tarPath: string,
  destDir: string,
  options: ExtractLayerOptions = {},
): Promise<ExtractedLayer> {
  const name = options.name ?? tarPath;
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const compression = options.compression ?? (await sniffCompression(tarPath));
  await mkdir(destDir, { recursive: true });

  const sidecar: LayerSidecar = {
    version: 1,
    diffId: '',
    entries: {},
    whiteouts: [],
    opaque: [],
    ignored: [],
  };
  const hash = createHash('sha256');
  let tarBytes = 0;
  let sawFiles = false;
  let entries = 0;
  let contentBytes = 0;
  const walkOptions: TarWalkOptions = {
    gzip: compression === 'gzip',
    onTarBytes: (chunk) => {
      hash.update(chunk);
      tarBytes += chunk.length;
    },
    ...(onProgress
      ? { onRead: (done, total) => onProgress({ item: name, phase: 'extract', done, total }) }
      : {}),
    ...(signal ? { signal } : {}),
  };
  await walkTar(tarPath, walkOptions, async (entry) => {
    const header = entry.header;
    const segments = safeEntrySegments(header.name);
    const rel = segments.join('/');
    const top = segments[0];
    const root = top === undefined ? undefined : ROOTS.find((r) => r.toLowerCase() === top.toLowerCase());
    if (top === undefined || root === undefined) {
      if (top !== undefined) sidecar.ignored.push(rel);
      return;
    }
    if (root === 'Files') sawFiles = true;
    entries++;
    const base = segments[segments.length - 1] ?? '';
    if (base.startsWith(WH)) {
      const parent = segments.slice(0, -1).join('/');
      if (base === OPAQUE) sidecar.opaque.push(parent);
      else sidecar.whiteouts.push([...segments.slice(0, -1), base.slice(WH.length)].join('/'));
      return;
    }
    const meta = readPaxMeta((header as { pax?: Record<string, string> }).pax ?? {}, rel);
    const target = join(destDir, ...segments);
    switch (header.type) {
      case 'directory':
        await mkdir(target, { recursive: true });
        break;
      case 'file':
      case 'contiguous-file':
        await writeEntryFile(entry, target);
        contentBytes += header.size ?? 0;
        break;
      case 'symlink':
        meta.reparse = {
          target: header.linkname ?? '',
          mountPoint: meta.reparse?.mountPoint ?? false,
        };
        break;
      case 'link': {
        const linkSegments = safeEntrySegments(header.linkname ?? '');
        if (linkSegments.length === 0)
          throw new UnsafeLayerPathError(header.linkname ?? '', 'empty hard link target');
        meta.hardLink = linkSegments.join('/');
        await mkdir(dirname(target), { recursive: true });
        await rm(target, { force: true });
        await link(join(destDir, ...linkSegments), target);
        break;
      }
      default:
        sidecar.ignored.push(`${rel} (${header.type})`);
    }
    if (Object.keys(meta).length > 0) sidecar.entries[rel] = meta;
  });

  const diffId = `sha256:${hash.digest('hex')}`;
  if (options.expectedDiffId && options.expectedDiffId !== diffId) {
    throw new DigestMismatchError(
      `layer ${name} (uncompressed content, diff id)`,
      options.expectedDiffId,
      diffId,
    );
  }
  if (!sawFiles) {
    const seen = sidecar.ignored.slice(0, 5).join(', ');
    throw new NotAWindowsLayerError(name, `no Files/ folder${seen ? ` (found ${seen})` : ' (empty tar)'}`);
  }
  sidecar.diffId = diffId;
  const tombstones = sidecar.whiteouts
    .filter((w) => w.toLowerCase().startsWith('files/'))
    .map((w) => `\\${w.slice('files/'.length).replaceAll('/', '\\')}`);
  if (tombstones.length > 0) {
    await writeFile(join(destDir, 'tombstones.txt'), `\ufeffVersion 1.0\n${tombstones.join('\n')}\n`, 'utf8');
  }
  const sidecarPath = layerSidecarPath(destDir);
  await writeFile(sidecarPath, JSON.stringify(sidecar), 'utf8');
  return { dir: destDir, sidecarPath, diffId, tarBytes, contentBytes, entries };
}

/** Removes an extracted layer folder and its sidecar. */
export async function removeExtractedLayer(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rm(layerSidecarPath(dir), { force: true });
}

/** `gzip` when the file starts with the gzip magic bytes. */
export async function sniffCompression(path: string): Promise<LayerCompression> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b ? 'gzip' : 'none';
  } finally {
    await fh.close();
  }
}

function readPaxMeta(pax: Record<string, string>, rel: string): LayerEntryMeta {
  const meta: LayerEntryMeta = {};
  for (const [rawKey, value] of Object.entries(pax)) {
    const key = rawKey.startsWith('SCHILY.xattr.') ? rawKey.slice('SCHILY.xattr.'.length) : rawKey;
    if (key === 'MSWINDOWS.fileattr') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
        throw new NotAWindowsLayerError(rel, `invalid MSWINDOWS.fileattr ${JSON.stringify(value)}`);
      }
      meta.fileAttributes = n;
    } else if (key === 'MSWINDOWS.rawsd') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
        throw new NotAWindowsLayerError(rel, 'MSWINDOWS.rawsd is not base64');
      }
      meta.securityDescriptor = value;
    } else if (key === 'MSWINDOWS.sd') {
      meta.sddl = value;
    } else if (key === 'MSWINDOWS.mountpoint') {
      meta.reparse = { target: '', mountPoint: true };
    } else if (key.startsWith('MSWINDOWS.xattr.')) {
      meta.extendedAttributes ??= {};
      meta.extendedAttributes[key.slice('MSWINDOWS.xattr.'.length)] = value;
    } else if (key === 'LIBARCHIVE.creationtime' || key === 'MSWINDOWS.createtime') {
      meta.creationTime = value;
    }
  }
  return meta;
}
