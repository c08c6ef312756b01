import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../internal/atomic-file.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { withFileLock } from '../../internal/file-lock.js';
import { type StoreRootInputs, storeRoot } from '../../internal/store-root.js';
import { secureStoreRoot } from '../store-root-security.js';
import type { ImageRecord, ImageSource, LayerRef } from '../types.js';
import { digestHex } from './chain-id.js';
import { ImageStoreError, PathOutsideStoreError } from './errors.js';
import { isRecord, readJsonIfExists } from './fs-util.js';
import { parseReference } from './reference.js';

/**
 * hcs-sandbox's own image store:
 *
 * ```
 * <root>\images\index.json      {"version":1,"images":{"<normalised reference>": ImageRecord}}
 * <root>\layers\<chain id hex>\ one layer folder per chain id (Files\, Hives\, ...)
 * <root>\tmp\<time>-<pid>-<random>\  work folders, on the same volume so a finished layer is renamed in
 *                               (the pid tells `gc` whether their process is alive)
 * ```
 *
 * `<root>` is the `root` option, else `HCS_SANDBOX_HOME`, else
 * `%ProgramData%\hcs-sandbox`. `index.json` is replaced atomically (written to a
 * temporary file beside it, then renamed over it), so a reader sees the old
 * index or the new one, never half of one. Writers in one process are
 * serialised; two processes writing at once are not (the last rename wins).
 * Before anything is written, the root is made reachable by administrators and
 * its owner only (`secureStoreRoot`): layers imported there run in sandboxes.
 */
export interface OwnStoreOptions extends StoreRootInputs {
  /** Default: `storeRoot()` from `env`, `platform` and `home` (`HCS_SANDBOX_HOME`, else `%ProgramData%\hcs-sandbox`). */
  root?: string;
}

export interface RemoveImageOptions {
  /**
   * Deletes a layer folder (HcsDestroyLayer: layer folders carry ACLs and
   * reparse points a plain recursive delete cannot remove). Called only for
   * layers inside `<root>\layers` that no remaining image uses. Without it,
   * such layers are left on disk and reported in `keptLayers`.
   */
  destroyLayer?: (path: string) => Promise<void>;
}

export interface RemoveImageResult {
  removed: ImageRecord;
  /** Layer folders `destroyLayer` deleted. */
  destroyedLayers: string[];
  /** Layer folders left: still used by another image, or no `destroyLayer` given. */
  keptLayers: string[];
}

interface IndexFile {
  version: 1;
  images: Record<string, ImageRecord>;
}

const SOURCE = 'hcs-sandbox';

/** The store root: `root` option, else the one the state store uses too (`storeRoot`). */
export function ownStoreRoot(options: OwnStoreOptions = {}): string {
  const { root, ...inputs } = options;
  return root ?? storeRoot(inputs);
}

/**
 * The pid of the process that made a work folder named by `tempDir`
 * (`<time>-<pid>-<random>`), or undefined for a name without one (older versions).
 */
export function tempDirOwnerPid(name: string): number | undefined {
  const match = /^[0-9a-z]+-(\d+)-[0-9a-f]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** hcs-sandbox's own image store and an `ImageSource` over it. */
export class OwnImageSource implements ImageSource {
  readonly name = SOURCE;
  /** Absolute store root. */
  readonly root: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: OwnStoreOptions = {}) {
    this.root = resolve(ownStoreRoot(options));
  }

  get indexPath(): string {
    return join(this.root, 'images', 'index.json');
  }

  async list(): Promise<ImageRecord[]> {
    const index = await this.#read();
    return Object.values(index.images).sort((a, b) => a.reference.localeCompare(b.reference));
  }

  /** The image for a reference (any form `parseReference` takes), or an image id. */
  async resolve(reference: string): Promise<ImageRecord | undefined> {
    const index = await this.#read();
    if (/^sha256:[a-f0-9]{64}$/.test(reference)) {
      return Object.values(index.images).find((r) => r.id === reference);
    }
    return index.images[parseReference(reference).normalized];
  }

  /**
   * The folder for the layer with this chain id (`sha256:<hex>` or `<hex>`):
   * `<root>\layers\<hex>`. Not created.
   */
  layerDir(chainId: string): string {
    return join(this.root, 'layers', digestHex(chainId, 'chainId'));
  }

  /** Creates and returns a fresh work folder inside the store (`<root>\tmp\<time>-<pid>-<random>`). */
  async tempDir(): Promise<string> {
    const name = `${Date.now().toString(36)}-${process.pid}-${randomBytes(6).toString('hex')}`;
    const dir = join(this.root, 'tmp', name);
    await secureStoreRoot(this.root);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Throws `PathOutsideStoreError` unless `path` lies inside `<root>\<under>`. */
  assertInside(path: string, under: 'layers' | 'tmp' | '' = '', what = 'Path'): void {
    const base = join(this.root, under);
    const rel = relative(base, resolve(path));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
      throw new PathOutsideStoreError(path, base, what);
  }

  /**
   * Adds (or replaces) an image. The reference is normalised; every layer must
   * be a folder under `<root>\layers`. Returns the record as stored.
   */
  async addImage(record: ImageRecord): Promise<ImageRecord> {
    const stored = this.#validate(record);
    return this.#serialised(async () => {
      const index = await this.#read();
      index.images[stored.reference] = stored;
      await this.#write(index);
      return stored;
    });
  }

  /**
   * Removes an image from this store only (Docker's and containerd's stores are
   * never touched). Layers no remaining image uses are destroyed with
   * `destroyLayer`; a layer another image shares stays. Throws
   * `InvalidArgumentError` (field `reference`) when the store has no such image.
   */
  async removeImage(reference: string, options: RemoveImageOptions = {}): Promise<RemoveImageResult> {
    const key = parseReference(reference).normalized;
    return this.#serialised(async () => {
      const index = await this.#read();
      const removed = index.images[key];
      if (removed === undefined) {
        throw new InvalidArgumentError(
          'reference',
          'an image in the hcs-sandbox store',
          reference,
          'not found',
        );
      }
      delete index.images[key];
      const stillUsed = new Set<string>();
      for (const image of Object.values(index.images))
        for (const l of image.layers) stillUsed.add(norm(l.path));
      const destroy: string[] = [];
      const keptLayers: string[] = [];
      for (const layer of removed.layers) {
        if (stillUsed.has(norm(layer.path)) || options.destroyLayer === undefined)
          keptLayers.push(layer.path);
        else destroy.push(layer.path);
      }
      // Checked before anything changes: nothing outside the store is ever deleted.
      for (const path of destroy) this.assertInside(path, 'layers', 'Layer');
      // The index is written first: a crash mid-destroy leaves unused folders, never an image without layers.
      await this.#write(index);
      const destroyedLayers: string[] = [];
      for (const path of destroy) {
        await options.destroyLayer!(path);
        destroyedLayers.push(path);
      }
      return { removed, destroyedLayers, keptLayers };
    });
  }

  #validate(record: ImageRecord): ImageRecord {
    if (typeof record !== 'object' || record === null) {
      throw new InvalidArgumentError('record', 'an ImageRecord', record);
    }
    const reference = parseReference(record.reference).normalized;
    if (record.os !== 'windows') throw new InvalidArgumentError('record.os', "'windows'", record.os);
    if (typeof record.id !== 'string' || record.id.length === 0) {
      throw new InvalidArgumentError('record.id', 'a content id (sha256:...)', record.id);
    }
    if (!Array.isArray(record.layers) || record.layers.length === 0) {
      throw new InvalidArgumentError('record.layers', 'at least one layer, top first', record.layers);
    }
    const layers: LayerRef[] = record.layers.map((layer, i) => {
      if (typeof layer?.id !== 'string' || typeof layer.path !== 'string') {
        throw new InvalidArgumentError(`record.layers[${i}]`, '{ id: string, path: string }', layer);
      }
      this.assertInside(layer.path, 'layers', `record.layers[${i}].path`);
      return { id: layer.id, path: resolve(layer.path) };
    });
    return { ...record, reference, source: SOURCE, layers };
  }

  async #read(): Promise<IndexFile> {
    const json = await readJsonIfExists(SOURCE, this.indexPath);
    if (json === undefined) return { version: 1, images: {} };
    if (!isRecord(json) || json.version !== 1 || !isRecord(json.images)) {
      throw new ImageStoreError(SOURCE, this.indexPath, 'index.json is not {"version":1,"images":{...}}');
    }
    return { version: 1, images: json.images as Record<string, ImageRecord> };
  }

  async #write(index: IndexFile): Promise<void> {
    await writeAtomic(this.indexPath, `${JSON.stringify(index, null, 2)}\n`);
  }

  /**
   * One index read-modify-write at a time, in this process (a queue) and across
   * processes (a lock file beside the index), so concurrent pulls and loads lose
   * no image and never rename over an index another writer holds open.
   */
  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    const locked = async () => {
      await secureStoreRoot(this.root);
      return withFileLock(`image store ${this.root}`, join(this.root, 'images', 'index.lock'), fn);
    };
    const run = this.#queue.then(locked, locked);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** Writes `path` atomically (a temporary file in the same folder renamed over it), creating its folder. */
export async function writeAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, content);
}

function norm(path: string): string {
  const p = resolve(path);
  return process.platform === 'win32' ? p.toLowerCase() : p;
}
