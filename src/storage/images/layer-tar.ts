/**
 * Extraction of a Windows-format layer tar into the layer transport format that
 * HcsImportLayer takes (transport-writer.ts says what that format is, and why
 * every layer goes through it).
 *
 * Windows layer tars (written by hcsshim/go-winio `backuptar`) carry NTFS
 * metadata in PAX records: `MSWINDOWS.rawsd` (a base64 self-relative security
 * descriptor), `MSWINDOWS.fileattr` (decimal FILE_ATTRIBUTE_*),
 * `MSWINDOWS.mountpoint` (a symlink entry that is a junction),
 * `MSWINDOWS.xattr.<name>` (base64 extended attributes); older writers put them
 * under `SCHILY.xattr.`. Reparse points travel as symlink entries, alternate
 * data streams as `name:stream` entries right after their file. All of it goes
 * into the transport files, as go-winio's `WriteBackupStreamFromTarFile` builds
 * a backup stream from the same records. Nothing is created on disk as a link
 * or reparse point: symlinks become reparse data inside a transport file.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import type { Progress } from '../types.js';
import { DigestMismatchError } from './digest.js';
import { NotAWindowsLayerError, UnsafeLayerPathError, UnsupportedLayerError } from './registry-errors.js';
import { type TarWalkOptions, typedEntryError, walkTar } from './tar-walk.js';
import { TransportLayerWriter, type TransportMeta, type TransportSummary } from './transport-writer.js';

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

export interface ExtractLayerOptions {
  /** Default: sniffed from the file's first bytes (gzip magic). */
  compression?: LayerCompression;
  /**
   * The most bytes the uncompressed tar may hold: past it the extraction stops with
   * a `NotAWindowsLayerError` (a decompression bomb) instead of inflating the rest.
   */
  maxTarBytes?: number;
  /** When given, the uncompressed content must hash to it (`DigestMismatchError` otherwise). */
  expectedDiffId?: string;
  /** What to call the layer in errors and progress (default: the file path). */
  name?: string;
  /**
   * The parent layers' folders, nearest parent first: where a hard link whose
   * target is not in this layer is looked up (and copied from).
   */
  parents?: readonly string[];
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

export interface ExtractedLayer extends TransportSummary {
  dir: string;
  diffId: string;
  /** Uncompressed tar size. */
  tarBytes: number;
  /** Bytes of file content written. */
  contentBytes: number;
  entries: number;
  /** Entries outside `Files/`, `Hives/`, `UtilityVM/`, and entry types a layer cannot hold (skipped). */
  ignored: string[];
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
 * hold anything yet) in the transport format. On error the caller removes
 * `destDir` (`removeExtractedLayer`).
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

  const writer = new TransportLayerWriter(destDir, { parents: options.parents ?? [], name });
  const ignored: string[] = [];
  const hash = createHash('sha256');
  let tarBytes = 0;
  let sawFiles = false;
  let entries = 0;
  let contentBytes = 0;
  const walkOptions: TarWalkOptions = {
    gzip: compression === 'gzip',
    formatError: (detail, cause) => new NotAWindowsLayerError(name, detail, { cause }),
    onTarBytes: (chunk) => {
      tarBytes += chunk.length;
      if (options.maxTarBytes !== undefined && tarBytes > options.maxTarBytes) {
        throw new NotAWindowsLayerError(
          name,
          `it inflates past ${options.maxTarBytes} bytes, more than a layer of its download size holds ` +
            '(a decompression bomb?); raise limits.maxInflateRatio or limits.minInflateBytes if it is genuine',
        );
      }
      hash.update(chunk);
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
      if (top !== undefined) ignored.push(rel);
      return;
    }
    segments[0] = root;
    if (root === 'Files') sawFiles = true;
    entries++;
    const base = segments[segments.length - 1] ?? '';
    if (base.startsWith(WH)) {
      if (base === OPAQUE) writer.markOpaque(segments.slice(0, -1));
      else await writer.whiteout([...segments.slice(0, -1), base.slice(WH.length)]);
      return;
    }
    const meta = readPaxMeta((header as { pax?: Record<string, string> }).pax ?? {}, rel);
    if (header.mtime) meta.mtime = header.mtime;
    switch (header.type) {
      case 'directory':
        await writer.directory(segments, meta);
        break;
      case 'file':
      case 'contiguous-file':
        if (writer.isAlternateStream(segments)) {
          await writer.alternateStream(segments, entry, header.size ?? 0);
        } else {
          await writer.file(segments, meta, entry, header.size ?? 0);
        }
        contentBytes += header.size ?? 0;
        break;
      case 'symlink': {
        const pax = (header as { pax?: Record<string, string> }).pax ?? {};
        const mountPoint = paxKeys(pax).includes('MSWINDOWS.mountpoint');
        await writer.reparsePoint(segments, meta, header.linkname ?? '', mountPoint);
        break;
      }
      case 'link': {
        const target = safeEntrySegments(header.linkname ?? '');
        if (target.length === 0)
          throw new UnsafeLayerPathError(header.linkname ?? '', 'empty hard link target');
        const targetRoot = ROOTS.find((r) => r.toLowerCase() === target[0]?.toLowerCase());
        if (targetRoot) target[0] = targetRoot;
        writer.link(segments, target, meta);
        break;
      }
      default:
        ignored.push(`${rel} (${header.type})`);
    }
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
    const seen = ignored.slice(0, 5).join(', ');
    throw new NotAWindowsLayerError(name, `no Files/ folder${seen ? ` (found ${seen})` : ' (empty tar)'}`);
  }
  // Hard links are made here, after the walk: the file system can still refuse one.
  const summary = await writer.finish().catch((err: unknown) => {
    throw typedEntryError(err, undefined, walkOptions);
  });
  return { dir: destDir, diffId, tarBytes, contentBytes, entries, ignored, ...summary };
}

/** Removes an extracted layer folder. */
export async function removeExtractedLayer(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
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

/** PAX keys with the `SCHILY.xattr.` prefix of older writers taken off. */
function paxKeys(pax: Record<string, string>): string[] {
  return Object.keys(pax).map((k) => (k.startsWith('SCHILY.xattr.') ? k.slice('SCHILY.xattr.'.length) : k));
}

function readPaxMeta(pax: Record<string, string>, rel: string): TransportMeta {
  const meta: TransportMeta = {};
  for (const [rawKey, value] of Object.entries(pax)) {
    const key = rawKey.startsWith('SCHILY.xattr.') ? rawKey.slice('SCHILY.xattr.'.length) : rawKey;
    if (key === 'MSWINDOWS.fileattr') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
        throw new NotAWindowsLayerError(rel, `invalid MSWINDOWS.fileattr ${JSON.stringify(value)}`);
      }
      meta.attributes = n;
    } else if (key === 'MSWINDOWS.rawsd') {
      meta.securityDescriptor = base64(value, rel, key);
    } else if (key === 'MSWINDOWS.sd' && !('MSWINDOWS.rawsd' in pax)) {
      // go-winio turns SDDL into a descriptor with advapi32; plain Node cannot, and
      // dropping it would leave the file with inherited rights instead of its own.
      throw new NotAWindowsLayerError(
        rel,
        'an SDDL security descriptor (MSWINDOWS.sd); only MSWINDOWS.rawsd is supported',
      );
    } else if (key.startsWith('MSWINDOWS.xattr.')) {
      meta.extendedAttributes ??= [];
      meta.extendedAttributes.push({
        name: key.slice('MSWINDOWS.xattr.'.length),
        value: base64(value, rel, key),
      });
    }
  }
  return meta;
}

function base64(value: string, rel: string, key: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new NotAWindowsLayerError(rel, `${key} is not base64`);
  return Buffer.from(value, 'base64');
}
