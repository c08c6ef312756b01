import { join } from 'node:path';
import type { ImageRecord, ImageSource, LayerRef } from '../types.js';
import { type BoltBucket, BoltDB, BoltFormatError, readUvarint, readVarint } from './bbolt.js';
import { chainIds } from './chain-id.js';
import { ImageStoreError, type ImageWarning } from './errors.js';
import { buildOf, isMissing, isRecord, readJsonIfExists } from './fs-util.js';
import { defaultLayerId } from './layer-id.js';
import { parseReference } from './reference.js';

/**
 * Reads containerd's image store on disk directly (containerd need not run;
 * nothing is written). Layout (containerd `core/metadata/buckets.go`,
 * `plugins/content/local/store.go`, `core/snapshots/storage/bolt.go`,
 * `plugins/snapshots/windows/windows.go`):
 *
 * ```
 * <root>\io.containerd.metadata.v1.bolt\meta.db        bbolt:
 *   v1/<namespace>/images/<name>/target/{digest,mediatype,size}
 *   v1/<namespace>/snapshots/<snapshotter>/<chain id>/name   the snapshotter's own key
 * <root>\io.containerd.content.v1.content\blobs\sha256\<hex>   index, manifest, config blobs
 * <root>\io.containerd.snapshotter.v1.windows\metadata.db      bbolt: v1/snapshots/<key>/{id,size}
 * <root>\io.containerd.snapshotter.v1.windows\snapshots\<id>\  the layer folder
 * ```
 *
 * Unpacked layers are committed under their chain id, so an image's layers are
 * found from its config's `rootfs.diff_ids`. `<root>` defaults to
 * `%ProgramData%\containerd\root`; a `root` set in containerd's `config.toml` is
 * not read (pass it as the `root` option).
 */
export interface ContainerdImageSourceOptions {
  /** containerd's root folder. */
  root?: string;
  /** Default `%ProgramData%` (`C:\ProgramData`). */
  programData?: string;
  /** Only this namespace (`default`, `k8s.io`, ...); default every namespace, first one wins on a clash. */
  namespace?: string;
  /** Snapshotter whose layers to use; default `windows`. */
  snapshotter?: string;
  /** Platform architecture to pick from a multi-platform index; default `amd64`. */
  architecture?: string;
  layerId?: (path: string) => string | Promise<string>;
  onWarning?: (warning: ImageWarning) => void;
}

const SOURCE = 'containerd';
const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const dec = new TextDecoder();
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : dec.decode(b));

export function defaultContainerdRoot(programData?: string): string {
  return join(
    programData ?? process.env.ProgramData ?? process.env.PROGRAMDATA ?? 'C:\\ProgramData',
    'containerd',
    'root',
  );
}

interface Found {
  namespace: string;
  name: string;
  bucket: BoltBucket;
}

interface Context {
  root: string;
  meta: BoltDB;
  snapshots: BoltDB | undefined;
}

/** An `ImageSource` over containerd's metadata database and its Windows snapshotter. */
export class ContainerdImageSource implements ImageSource {
  readonly name = SOURCE;
  readonly #options: ContainerdImageSourceOptions;

  constructor(options: ContainerdImageSourceOptions = {}) {
    this.#options = options;
  }

  get root(): string {
    return this.#options.root ?? defaultContainerdRoot(this.#options.programData);
  }

  get snapshotter(): string {
    return this.#options.snapshotter ?? 'windows';
  }

  async list(): Promise<ImageRecord[]> {
    const ctx = await this.#open();
    if (ctx === undefined) return [];
    const records: ImageRecord[] = [];
    const seen = new Set<string>();
    for (const image of this.#images(ctx.meta)) {
      let reference: string;
      try {
        reference = parseReference(image.name).normalized;
      } catch {
        this.#warn(image.name, `image name ${JSON.stringify(image.name)} is not a reference; skipped`);
        continue;
      }
      if (seen.has(reference)) continue;
      seen.add(reference);
      try {
        const record = await this.#record(ctx, image, reference);
        if (record !== undefined) records.push(record);
      } catch (err) {
        if (!(err instanceof ImageStoreError)) throw err;
        this.#warn(reference, err.message, err);
      }
    }
    return records.sort((a, b) => a.reference.localeCompare(b.reference));
  }

  async resolve(reference: string): Promise<ImageRecord | undefined> {
    const byId = /^sha256:[a-f0-9]{64}$/.test(reference);
    const wanted = byId ? undefined : parseReference(reference).normalized;
    const ctx = await this.#open();
    if (ctx === undefined) return undefined;
    if (byId) return (await this.list()).find((r) => r.id === reference);
    for (const image of this.#images(ctx.meta)) {
      let normalized: string;
      try {
        normalized = parseReference(image.name).normalized;
      } catch {
        continue;
      }
      if (normalized === wanted) return this.#record(ctx, image, normalized);
    }
    return undefined;
  }

  #warn(subject: string, message: string, cause?: unknown): void {
    this.#options.onWarning?.({
      source: SOURCE,
      subject,
      message,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  async #open(): Promise<Context | undefined> {
    const root = this.root;
    const meta = await openBolt(join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
    if (meta === undefined) return undefined;
    const snapshots = await openBolt(this.#snapshotterDir(root, 'metadata.db'));
    return { root, meta, snapshots };
  }

  #snapshotterDir(root: string, ...rest: string[]): string {
    return join(root, `io.containerd.snapshotter.v1.${this.snapshotter}`, ...rest);
  }

  *#images(meta: BoltDB): Generator<Found> {
    const v1 = meta.root().bucket('v1');
    if (v1 === undefined) return;
    const namespaces = v1
      .bucketNames()
      .filter((n) => this.#options.namespace === undefined || n === this.#options.namespace);
    namespaces.sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
    for (const namespace of namespaces) {
      const images = v1.path(namespace, 'images');
      if (images === undefined) continue;
      for (const entry of images.entries()) {
        if (entry.bucket !== undefined)
          yield { namespace, name: dec.decode(entry.key), bucket: entry.bucket };
      }
    }
  }

  async #record(ctx: Context, image: Found, reference: string): Promise<ImageRecord | undefined> {
    const metaPath = join(ctx.root, 'io.containerd.metadata.v1.bolt', 'meta.db');
    const target = image.bucket.bucket('target');
    const digest = text(target?.get('digest'));
    if (digest === undefined)
      throw new ImageStoreError(SOURCE, metaPath, `image ${image.name} has no target digest`);
    const { manifest, platformVersion } = await this.#manifest(
      ctx.root,
      digest,
      text(target?.get('mediatype')),
    );
    const configDigest = isRecord(manifest.config) ? manifest.config.digest : undefined;
    if (typeof configDigest !== 'string') {
      throw new ImageStoreError(SOURCE, blobPath(ctx.root, digest), 'manifest has no config digest');
    }
    const configPath = blobPath(ctx.root, configDigest);
    const config = await readJsonIfExists(SOURCE, configPath);
    if (!isRecord(config))
      throw new ImageStoreError(SOURCE, configPath, 'image config missing or not an object');
    if (config.os !== 'windows') {
      this.#warn(reference, `image is for os '${String(config.os)}', not windows; skipped`);
      return undefined;
    }
    const rootfs = config.rootfs;
    const diffIds = isRecord(rootfs) ? rootfs.diff_ids : undefined;
    if (!Array.isArray(diffIds) || diffIds.length === 0 || !diffIds.every((d) => typeof d === 'string')) {
      throw new ImageStoreError(SOURCE, configPath, 'image config has no rootfs.diff_ids');
    }
    let chain: string[];
    try {
      chain = chainIds(diffIds);
    } catch (err) {
      throw new ImageStoreError(
        SOURCE,
        configPath,
        'rootfs.diff_ids holds something other than sha256 digests',
        {
          cause: err,
        },
      );
    }

    const snapshotsDbPath = this.#snapshotterDir(ctx.root, 'metadata.db');
    const bottomUp: LayerRef[] = [];
    let sizeBytes: number | undefined;
    for (const chainId of chain) {
      const snap = ctx.meta.root().path('v1', image.namespace, 'snapshots', this.snapshotter, chainId);
      const key = text(snap?.get('name'));
      if (key === undefined) {
        throw new ImageStoreError(
          SOURCE,
          metaPath,
          `image ${image.name} is not unpacked into the '${this.snapshotter}' snapshotter (no snapshot ${chainId})`,
        );
      }
      const info = ctx.snapshots?.root().path('v1', 'snapshots', key);
      const id = readUvarint(info?.get('id'));
      if (id === undefined) {
        throw new ImageStoreError(SOURCE, snapshotsDbPath, `no snapshot id for ${JSON.stringify(key)}`);
      }
      const size = readVarint(info?.get('size'));
      if (size !== undefined && size > 0n) sizeBytes = (sizeBytes ?? 0) + Number(size);
      const path = this.#snapshotterDir(ctx.root, 'snapshots', id.toString());
      bottomUp.push({ id: await (this.#options.layerId ?? defaultLayerId)(path), path });
    }

    const record: ImageRecord = {
      reference,
      id: configDigest,
      source: SOURCE,
      os: 'windows',
      layers: bottomUp.reverse(),
    };
    const osVersion = typeof config['os.version'] === 'string' ? config['os.version'] : platformVersion;
    if (osVersion !== undefined) record.osVersion = osVersion;
    const build = buildOf(osVersion);
    if (build !== undefined) record.build = build;
    if (sizeBytes !== undefined) record.sizeBytes = sizeBytes;
    if (typeof config.created === 'string') record.created = config.created;
    return record;
  }

  /** The image manifest for a target (following an index to this platform's manifest). */
  async #manifest(
    root: string,
    digest: string,
    mediaType: string | undefined,
  ): Promise<{ manifest: Record<string, unknown>; platformVersion?: string }> {
    const path = blobPath(root, digest);
    const json = await readJsonIfExists(SOURCE, path);
    if (!isRecord(json)) throw new ImageStoreError(SOURCE, path, 'target blob missing or not an object');
    const isIndex =
      (mediaType !== undefined && INDEX_TYPES.has(mediaType)) ||
      (typeof json.mediaType === 'string' && INDEX_TYPES.has(json.mediaType)) ||
      (Array.isArray(json.manifests) && json.config === undefined);
    if (!isIndex) return { manifest: json };
    const arch = this.#options.architecture ?? 'amd64';
    const manifests = Array.isArray(json.manifests) ? json.manifests : [];
    for (const m of manifests) {
      if (!isRecord(m) || typeof m.digest !== 'string' || !isRecord(m.platform)) continue;
      if (m.platform.os !== 'windows' || m.platform.architecture !== arch) continue;
      // containerd fetches only the platforms it pulled: take the first one present.
      const child = await readJsonIfExists(SOURCE, blobPath(root, m.digest));
      if (!isRecord(child)) continue;
      const version = m.platform['os.version'];
      return typeof version === 'string'
        ? { manifest: child, platformVersion: version }
        : { manifest: child };
    }
    throw new ImageStoreError(
      SOURCE,
      path,
      `no windows/${arch} manifest of this index is in the content store`,
    );
  }
}

function blobPath(root: string, digest: string): string {
  const m = /^(sha256|sha512):([a-f0-9]{64,128})$/.exec(digest);
  if (!m) throw new ImageStoreError(SOURCE, root, `${JSON.stringify(digest)} is not a digest`);
  return join(root, 'io.containerd.content.v1.content', 'blobs', m[1]!, m[2]!);
}

async function openBolt(path: string): Promise<BoltDB | undefined> {
  try {
    return await BoltDB.open(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    if (err instanceof BoltFormatError) throw new ImageStoreError(SOURCE, path, err.message, { cause: err });
    throw err;
  }
}
