/**
 * Writes a layer in the transport format `HcsImportLayer` takes: the format
 * `HcsExportLayer` produces and hcsshim's legacy layer writer builds before it
 * calls ImportLayer (hcsshim internal/wclayer/legacy.go, `legacyLayerWriter`):
 *
 * - `Files\<path>` (a file): a 4-byte attribute word (FILE_ATTRIBUTE_*), then
 *   a Win32 backup stream: security descriptor, extended attributes, reparse
 *   data, data, alternate data streams (go-winio backuptar
 *   `WriteBackupStreamFromTarFile` order). legacy.go `Add` writes the word,
 *   then the stream; its reader (`legacyLayerReader.Next`) reads them back.
 * - every folder of `Files\` and `Hives\` (and `Files`, `Hives` themselves): the
 *   folder, plus a sibling `<folder>.$wcidirs$` holding its attribute word and
 *   stream (legacy.go `Add`: `fname += ".$wcidirs$"`). A folder that is a
 *   reparse point (junction, directory symlink) stays an empty placeholder.
 * - `Hives\<name>`: the hive delta's bytes, a plain file (legacy.go `Add` writes
 *   Hives entries through a BackupFileWriter without security: only data).
 *   `Hives.$wcidirs$` and the five `Hives\*_Delta` are required (hcsctl
 *   internal/storage/storage.go `importCmd`: "the source must be a complete
 *   export (Files, Hives, tombstones.txt)", measured; the five names: hcsshim
 *   internal/wclayer/cim/common.go `hives`).
 * - `tombstones.txt`: `\ufeffVersion 1.0`, then one `\path` per deleted file
 *   (hcsshim legacy.go `readTombstones`), always written (same hcsctl finding).
 * - `UtilityVM\`: plain files and folders (legacy.go's reader takes anything
 *   outside `Files\` as a real file).
 *
 * Why every layer, the base layer included, goes through this format and
 * HcsImportLayer with plain file I/O, instead of hcsshim's route (BackupWrite of
 * a base layer's files straight into the layer folder, importlayer.go
 * `baseLayerWriter`): one code path for every layer, no native BackupWrite
 * binding, and the whole format is produced and checked on Linux and against
 * the simulated host. HcsExportLayer emits exactly this format, so
 * HcsImportLayer must read it back whatever layer it came from. The base
 * layer's own processing (hives, blank VHDs) is HcsSetupBaseOSLayer's job,
 * called once the layer is in the store (docs/storage.md, "Layer format").
 *
 * Hard links are deferred to `finish` (a second pass): a link to an entry of
 * this layer, earlier or later in the tar, becomes a hard link between the two
 * transport files (HcsExportLayer produces hard-linked transport files for
 * hard-linked layer files: hcsshim pkg/ociwclayer/export.go reads them back as
 * links through `LinkInfo`); a link to a file of a parent layer becomes a full
 * copy of that file (the parent's file is not in this layer's folder).
 * Whiteouts become tombstones; an entry of this same layer that a whiteout
 * deletes is removed from the folder before the import, which is what hcsshim
 * does after ImportLayer returns (`legacyLayerWriterWrapper.Close`): nothing
 * touches the imported layer folder afterwards.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  alternateStreamName,
  attributeWord,
  BackupStreamId,
  type ExtendedAttribute,
  encodeExtendedAttributes,
  encodeReparsePoint,
  encodeStream,
  FileAttribute,
  streamHeader,
} from './backup-stream.js';
import { NotAWindowsLayerError } from './registry-errors.js';
import { pipeEntry } from './tar-walk.js';

/** The five registry hive deltas every layer carries (hcsshim internal/wclayer/cim/common.go). */
export const HIVE_DELTAS = [
  'DefaultUser_Delta',
  'Sam_Delta',
  'Security_Delta',
  'Software_Delta',
  'System_Delta',
] as const;

export const WCIDIRS = '.$wcidirs$';

/** What a tar entry's PAX records say about it (go-winio backuptar). */
export interface TransportMeta {
  /** FILE_ATTRIBUTE_* (`MSWINDOWS.fileattr`); default: a folder 0x10, anything else 0 (backuptar `FileInfoFromHeader`). */
  attributes?: number;
  /** Self-relative security descriptor (`MSWINDOWS.rawsd`). */
  securityDescriptor?: Buffer;
  extendedAttributes?: ExtendedAttribute[];
  /** Last write time, set on the transport file (HcsImportLayer takes the times from it). */
  mtime?: Date;
}

type Area = 'files' | 'hives' | 'uvm';

interface PendingLink {
  name: string[];
  target: string[];
  meta: TransportMeta;
}

export interface TransportSummary {
  /** Deleted paths, as written to tombstones.txt. */
  tombstones: string[];
  /** Folders marked opaque (`.wh..wh..opq`): not expressible in a Windows layer; recorded only. */
  opaque: string[];
  /** Hard links resolved inside this layer, and those written as copies of a parent layer's file. */
  links: { inLayer: number; fromParent: number };
}

const key = (segments: readonly string[]) => segments.join('/').toLowerCase();

/** Builds one transport folder, entry by entry, then `finish()`. */
export class TransportLayerWriter {
  /** Entries written so far (lower-case key → 'file' | 'dir' and the path as written). */
  private readonly added = new Map<string, { kind: 'file' | 'dir'; segments: string[] }>();
  private readonly reparseDirs: string[] = [];
  private readonly pending: PendingLink[] = [];
  private readonly tombstones: string[] = [];
  private readonly opaque: string[] = [];
  /** The last `Files\` file written: its alternate data streams follow it in the tar. */
  private lastFile: { segments: string[]; path: string } | undefined;

  private readonly parents: readonly string[];
  private readonly name: string;

  /**
   * @param dir the transport folder (created by the caller).
   * @param options.parents the parent layers' folders, nearest first, searched for hard-link targets.
   * @param options.name what to call the layer in errors (default: `dir`).
   */
  constructor(
    readonly dir: string,
    options: { parents?: readonly string[]; name?: string } = {},
  ) {
    this.parents = options.parents ?? [];
    this.name = options.name ?? dir;
  }

  /** A folder entry (`Files`, `Hives` and `UtilityVM` included). */
  async directory(segments: string[], meta: TransportMeta = {}): Promise<void> {
    const area = this.area(segments);
    await this.ensureParents(segments);
    const path = this.pathOf(segments);
    await mkdir(path, { recursive: true });
    this.added.set(key(segments), { kind: 'dir', segments });
    if (area === 'uvm') return;
    const attributes = (meta.attributes ?? 0) | FileAttribute.Directory;
    await this.writeBlob(`${path}${WCIDIRS}`, attributes, this.metaStreams(meta), meta.mtime);
  }

  /** A regular file with `size` bytes of `content`. */
  async file(segments: string[], meta: TransportMeta, content: Readable, size: number): Promise<void> {
    const area = this.area(segments);
    if (segments.length < 2) throw this.invalid(segments, 'a file where a layer root folder belongs');
    // NTFS names have no ':'; in a Windows layer tar it only separates an alternate data stream.
    if (area === 'files' && segments.some((s) => s.includes(':'))) {
      throw this.invalid(segments, 'an alternate data stream that does not follow its file');
    }
    await this.ensureParents(segments);
    const path = this.pathOf(segments);
    await rm(path, { recursive: true, force: true });
    this.added.set(key(segments), { kind: 'file', segments });
    this.lastFile = undefined;
    if (area !== 'files') {
      // Hives\ and UtilityVM\ hold real files (legacy.go: only Files\ entries are backup streams).
      await pipeEntry(content, createWriteStream(path, { flags: 'wx' }));
      return;
    }
    const attributes = (meta.attributes ?? 0) & ~FileAttribute.Directory;
    const head = Buffer.concat([
      attributeWord(attributes),
      ...this.metaStreams(meta),
      streamHeader(BackupStreamId.Data, size),
    ]);
    const out = createWriteStream(path, { flags: 'wx' });
    out.write(head);
    await pipeEntry(content, out);
    if (meta.mtime) await utimes(path, meta.mtime, meta.mtime);
    this.lastFile = { segments, path };
  }

  /** True when `segments` names an alternate data stream (`file:stream`) of the file just written. */
  isAlternateStream(segments: readonly string[]): boolean {
    const last = this.lastFile;
    if (!last || segments.length !== last.segments.length) return false;
    const base = last.segments.at(-1) ?? '';
    const name = segments.at(-1) ?? '';
    return (
      name.length > base.length + 1 &&
      name.startsWith(`${base}:`) &&
      key(segments.slice(0, -1)) === key(last.segments.slice(0, -1))
    );
  }

  /** Appends an alternate data stream to the file just written (`isAlternateStream` first). */
  async alternateStream(segments: string[], content: Readable, size: number): Promise<void> {
    const last = this.lastFile;
    if (!last || !this.isAlternateStream(segments))
      throw this.invalid(segments, 'a stray alternate data stream');
    const stream = (segments.at(-1) ?? '').slice((last.segments.at(-1) ?? '').length + 1);
    const out = createWriteStream(last.path, { flags: 'a' });
    out.write(streamHeader(BackupStreamId.AlternateData, size, alternateStreamName(stream)));
    await pipeEntry(content, out);
  }

  /** A symlink or junction (`MSWINDOWS.mountpoint`): a reparse point with no data. */
  async reparsePoint(
    segments: string[],
    meta: TransportMeta,
    target: string,
    mountPoint: boolean,
  ): Promise<void> {
    if (this.area(segments) !== 'files') throw this.invalid(segments, 'a reparse point outside Files/');
    await this.ensureParents(segments);
    let attributes =
      (meta.attributes ?? (mountPoint ? FileAttribute.Directory : 0)) | FileAttribute.ReparsePoint;
    if (mountPoint) attributes |= FileAttribute.Directory;
    const streams = [
      ...this.metaStreams(meta),
      encodeStream(BackupStreamId.ReparseData, encodeReparsePoint(target, mountPoint)),
    ];
    const path = this.pathOf(segments);
    await rm(path, { recursive: true, force: true });
    this.lastFile = undefined;
    if (attributes & FileAttribute.Directory) {
      // An empty placeholder folder: nothing may be written beneath it (legacy.go `reset`, pendingDirs).
      await mkdir(path);
      this.added.set(key(segments), { kind: 'dir', segments });
      this.reparseDirs.push(key(segments));
      await this.writeBlob(`${path}${WCIDIRS}`, attributes, streams, meta.mtime);
    } else {
      this.added.set(key(segments), { kind: 'file', segments });
      await this.writeBlob(path, attributes, streams, meta.mtime);
    }
  }

  /** A hard link, resolved in `finish` (its target may come later, or live in a parent layer). */
  link(segments: string[], target: string[], meta: TransportMeta = {}): void {
    const a = this.area(segments);
    // legacy.go `AddLink`: links live in Files\ or UtilityVM\Files\ and point into the same area.
    if (a === 'hives' || this.area(target) !== a || target.length < 2) {
      throw this.invalid(segments, `an invalid hard link to ${target.join('/')}`);
    }
    this.pending.push({ name: segments, target, meta });
    this.lastFile = undefined;
  }

  /** A whiteout (`.wh.<name>`): a tombstone, and the entry dropped if this layer wrote it. */
  async whiteout(segments: string[]): Promise<void> {
    const area = this.area(segments);
    if (area === 'hives' || segments.length < 2) throw this.invalid(segments, 'a whiteout outside Files/');
    const k = key(segments);
    const own = this.added.get(k);
    if (own) {
      // Written by this layer earlier: drop it (and, for a folder, what is beneath it).
      const gone = own.kind === 'dir' ? [...this.added.keys()].filter((o) => o.startsWith(`${k}/`)) : [];
      for (const o of [k, ...gone]) this.added.delete(o);
      await rm(this.pathOf(own.segments), { recursive: true, force: true });
      await rm(`${this.pathOf(own.segments)}${WCIDIRS}`, { force: true });
    }
    this.lastFile = undefined;
    if (area === 'files') this.tombstones.push(`\\${segments.slice(1).join('\\')}`);
  }

  /** A `.wh..wh..opq` marker on `folder`. */
  markOpaque(folder: string[]): void {
    this.opaque.push(folder.join('/'));
  }

  /** Resolves the hard links, checks the hives, writes `tombstones.txt`. */
  async finish(): Promise<TransportSummary> {
    const links = await this.resolveLinks();
    if (!this.added.has('files')) throw new NotAWindowsLayerError(this.name, 'no Files/ folder');
    const missing = ['Hives', ...HIVE_DELTAS.map((h) => `Hives/${h}`)].filter(
      (p) => !this.added.has(p.toLowerCase()),
    );
    if (missing.length > 0) {
      throw new NotAWindowsLayerError(
        this.name,
        `missing ${missing.join(', ')} (HcsImportLayer needs Hives/ and its five deltas in every layer)`,
      );
    }
    const body = this.tombstones.map((t) => `${t}\n`).join('');
    await writeFile(join(this.dir, 'tombstones.txt'), `\ufeffVersion 1.0\n${body}`, 'utf8');
    return { tombstones: [...this.tombstones], opaque: [...this.opaque], links };
  }

  private async resolveLinks(): Promise<TransportSummary['links']> {
    const counts = { inLayer: 0, fromParent: 0 };
    let queue = this.pending.splice(0);
    while (queue.length > 0) {
      const waiting = new Set(queue.map((l) => key(l.name)));
      const next: PendingLink[] = [];
      for (const l of queue) {
        const inLayer = this.added.get(key(l.target));
        if (inLayer) {
          if (inLayer.kind !== 'file')
            throw this.invalid(l.name, `a hard link to the folder ${l.target.join('/')}`);
          await this.ensureParents(l.name);
          const path = this.pathOf(l.name);
          await rm(path, { recursive: true, force: true });
          await link(this.pathOf(inLayer.segments), path);
          counts.inLayer++;
        } else if (waiting.has(key(l.target))) {
          next.push(l); // its target is a link not resolved yet
          continue;
        } else {
          await this.copyFromParent(l);
          counts.fromParent++;
        }
        this.added.set(key(l.name), { kind: 'file', segments: l.name });
      }
      if (next.length === queue.length) {
        throw this.invalid(next[0]?.name ?? [], 'a cycle of hard links');
      }
      queue = next;
    }
    return counts;
  }

  /** A link whose target is a parent layer's file: a full copy of it (the data; metadata from the link entry). */
  private async copyFromParent(l: PendingLink): Promise<void> {
    for (const parent of this.parents) {
      const source = join(parent, ...l.target);
      const st = await stat(source).catch(() => undefined);
      if (!st?.isFile()) continue;
      await this.ensureParents(l.name);
      await this.file(l.name, l.meta, createReadStream(source), st.size);
      return;
    }
    throw this.invalid(
      l.name,
      `a hard link to ${l.target.join('/')}, which is neither in this layer nor in a parent`,
    );
  }

  /** Creates the folders above `segments` that have no entry of their own (default metadata). */
  private async ensureParents(segments: readonly string[]): Promise<void> {
    const k = key(segments);
    if (this.reparseDirs.some((r) => k.startsWith(`${r}/`))) {
      throw this.invalid([...segments], 'an entry beneath a reparse point');
    }
    for (let i = 1; i < segments.length; i++) {
      const folder = segments.slice(0, i);
      if (this.added.get(key(folder))?.kind === 'dir') continue;
      await this.directory(folder);
    }
  }

  private metaStreams(meta: TransportMeta): Buffer[] {
    const streams: Buffer[] = [];
    if (meta.securityDescriptor?.length) {
      streams.push(encodeStream(BackupStreamId.Security, meta.securityDescriptor));
    }
    if (meta.extendedAttributes?.length) {
      streams.push(encodeStream(BackupStreamId.EaData, encodeExtendedAttributes(meta.extendedAttributes)));
    }
    return streams;
  }

  private async writeBlob(path: string, attributes: number, streams: Buffer[], mtime?: Date): Promise<void> {
    await writeFile(path, Buffer.concat([attributeWord(attributes), ...streams]));
    if (mtime) await utimes(path, mtime, mtime);
  }

  private area(segments: readonly string[]): Area {
    const top = (segments[0] ?? '').toLowerCase();
    if (top === 'files') return 'files';
    if (top === 'hives') return 'hives';
    if (top === 'utilityvm') return 'uvm';
    throw this.invalid(segments, 'an entry outside Files/, Hives/ and UtilityVM/');
  }

  private pathOf(segments: readonly string[]): string {
    return join(this.dir, ...segments);
  }

  private invalid(segments: readonly string[], what: string): NotAWindowsLayerError {
    return new NotAWindowsLayerError(this.name, `${segments.join('/')}: ${what}`);
  }
}
