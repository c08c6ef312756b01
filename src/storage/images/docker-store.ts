import { join } from 'node:path';
import type { ImageRecord, ImageSource, LayerRef } from '../types.js';
import { chainIds } from './chain-id.js';
import { ImageStoreError, type ImageWarning } from './errors.js';
import { buildOf, isRecord, readJsonIfExists, readTextIfExists } from './fs-util.js';
import { baseName, defaultLayerId } from './layer-id.js';
import { parseReference } from './reference.js';

/**
 * Reads Docker's image store on disk directly: dockerd need not run, and
 * nothing is written. Layout (moby `image/store.go`, `image/fs.go`,
 * `reference/store.go`, `layer/filestore.go`, `daemon/graphdriver/windows`):
 *
 * ```
 * <data-root>\image\windowsfilter\repositories.json        {"Repositories":{repo:{ref:"sha256:<image id>"}}}
 * <data-root>\image\windowsfilter\imagedb\content\sha256\<id>   image config JSON
 * <data-root>\image\windowsfilter\layerdb\sha256\<chain id>\cache-id   graph driver id of the layer
 * <data-root>\image\windowsfilter\layerdb\sha256\<chain id>\size       bytes, decimal
 * <data-root>\windowsfilter\<cache id>\                   the layer folder (Files\, Hives\, layerchain.json)
 * ```
 *
 * `<data-root>` is `data-root` (or the older `graph`) from
 * `%ProgramData%\docker\config\daemon.json`, else `%ProgramData%\docker`.
 */
export interface DockerImageSourceOptions {
  /** Docker's data root; overrides `daemon.json` and the default. */
  root?: string;
  /** Where `docker\config\daemon.json` is looked for; default `%ProgramData%` (`C:\ProgramData`). */
  programData?: string;
  /** The HCS GUID of a layer folder; default `defaultLayerId` (see `layer-id.ts`). */
  layerId?: (path: string) => string | Promise<string>;
  /** Called for each image `list()` skips because its entry is broken. */
  onWarning?: (warning: ImageWarning) => void;
}

const SOURCE = 'docker';
const DRIVER = 'windowsfilter';

/** Where Docker keeps its data, as dockerd would decide it (`root` option first). */
export async function dockerDataRoot(options: DockerImageSourceOptions = {}): Promise<string> {
  if (options.root !== undefined) return options.root;
  const programData = options.programData ?? defaultProgramData();
  const configPath = join(programData, 'docker', 'config', 'daemon.json');
  const config = await readJsonIfExists(SOURCE, configPath);
  if (config !== undefined) {
    if (!isRecord(config)) throw new ImageStoreError(SOURCE, configPath, 'daemon.json is not a JSON object');
    for (const key of ['data-root', 'graph']) {
      const value = config[key];
      if (typeof value === 'string' && value.length > 0) return value;
    }
  }
  return join(programData, 'docker');
}

export function defaultProgramData(): string {
  return process.env.ProgramData ?? process.env.PROGRAMDATA ?? 'C:\\ProgramData';
}

interface ImageConfig {
  os: string;
  osVersion?: string;
  architecture?: string;
  created?: string;
  diffIds: string[];
}

/** An `ImageSource` over Docker's Windows (`windowsfilter`) image store. */
export class DockerImageSource implements ImageSource {
  readonly name = SOURCE;
  readonly #options: DockerImageSourceOptions;

  constructor(options: DockerImageSourceOptions = {}) {
    this.#options = options;
  }

  /** The data root this source reads. */
  root(): Promise<string> {
    return dockerDataRoot(this.#options);
  }

  async list(): Promise<ImageRecord[]> {
    const root = await this.root();
    const refs = await readRepositories(root);
    if (refs === undefined) return [];
    // One row per tag; an image known only by digest gets a row for its digest reference.
    const tagged = new Set<string>();
    for (const [ref, id] of refs) if (ref.tag !== undefined) tagged.add(`${ref.name} ${id}`);
    const records: ImageRecord[] = [];
    const seen = new Set<string>();
    for (const [ref, id] of refs) {
      if (ref.tag === undefined && tagged.has(`${ref.name} ${id}`)) continue;
      if (seen.has(ref.normalized)) continue;
      seen.add(ref.normalized);
      try {
        const record = await this.#record(root, ref.normalized, id);
        if (record !== undefined) records.push(record);
      } catch (err) {
        if (!(err instanceof ImageStoreError)) throw err;
        this.#options.onWarning?.({
          source: SOURCE,
          subject: ref.normalized,
          message: err.message,
          cause: err,
        });
      }
    }
    return records.sort((a, b) => a.reference.localeCompare(b.reference));
  }

  /**
   * The image for a reference (any form `parseReference` takes) or an image id
   * (`sha256:<64 hex>`). Throws `InvalidArgumentError` for a reference that does
   * not parse and `ImageStoreError` when the entry is broken.
   */
  async resolve(reference: string): Promise<ImageRecord | undefined> {
    const byId = /^sha256:[a-f0-9]{64}$/.test(reference);
    const wanted = byId ? undefined : parseReference(reference);
    const root = await this.root();
    const refs = await readRepositories(root);
    if (refs === undefined) return undefined;
    if (byId) {
      const known = [...refs.values()].includes(reference);
      return known ? this.#record(root, reference, reference) : undefined;
    }
    // A reference pinned by digest is found by its digest, as Docker does.
    const key = wanted!.digest !== undefined ? `${wanted!.name}@${wanted!.digest}` : wanted!.normalized;
    for (const [ref, id] of refs) {
      const candidate = ref.digest !== undefined ? `${ref.name}@${ref.digest}` : ref.normalized;
      if (candidate === key) return this.#record(root, wanted!.normalized, id);
    }
    return undefined;
  }

  async #record(root: string, reference: string, imageId: string): Promise<ImageRecord | undefined> {
    const store = join(root, 'image', DRIVER);
    const configPath = join(store, 'imagedb', 'content', 'sha256', hexOf(store, imageId));
    const config = parseConfig(configPath, await readJsonIfExists(SOURCE, configPath));
    if (config.os !== 'windows') {
      this.#options.onWarning?.({
        source: SOURCE,
        subject: reference,
        message: `image ${imageId} is for os '${config.os}', not windows; skipped`,
      });
      return undefined;
    }
    const chain = chainIds(config.diffIds);
    let sizeBytes = 0;
    const bottomUp: LayerRef[] = [];
    for (const chainId of chain) {
      const layerDb = join(store, 'layerdb', 'sha256', hexOf(store, chainId));
      const cacheId = (await readTextIfExists(join(layerDb, 'cache-id')))?.trim();
      if (!cacheId)
        throw new ImageStoreError(SOURCE, join(layerDb, 'cache-id'), `no layer for chain id ${chainId}`);
      const size = (await readTextIfExists(join(layerDb, 'size')))?.trim();
      if (size !== undefined && /^\d+$/.test(size)) sizeBytes += Number(size);
      const path = await layerFolder(root, cacheId);
      bottomUp.push({ id: await (this.#options.layerId ?? defaultLayerId)(path), path });
    }
    const layers = bottomUp.reverse();
    await checkLayerChain(layers);
    const record: ImageRecord = { reference, id: imageId, source: SOURCE, os: 'windows', layers, sizeBytes };
    if (config.osVersion !== undefined) record.osVersion = config.osVersion;
    const build = buildOf(config.osVersion);
    if (build !== undefined) record.build = build;
    if (config.created !== undefined) record.created = config.created;
    return record;
  }
}

/** `repositories.json` as (parsed reference, image id) pairs; `undefined` when Docker has no store. */
async function readRepositories(
  root: string,
): Promise<Map<ReturnType<typeof parseReference>, string> | undefined> {
  const path = join(root, 'image', DRIVER, 'repositories.json');
  const json = await readJsonIfExists(SOURCE, path);
  if (json === undefined) return undefined;
  const repositories = isRecord(json) ? json.Repositories : undefined;
  if (!isRecord(repositories)) throw new ImageStoreError(SOURCE, path, 'no "Repositories" object');
  const out = new Map<ReturnType<typeof parseReference>, string>();
  for (const refs of Object.values(repositories)) {
    if (!isRecord(refs)) throw new ImageStoreError(SOURCE, path, 'a repository entry is not an object');
    for (const [ref, id] of Object.entries(refs)) {
      if (typeof id !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(id)) {
        throw new ImageStoreError(
          SOURCE,
          path,
          `reference ${JSON.stringify(ref)} maps to ${JSON.stringify(id)}, not an image id`,
        );
      }
      let parsed: ReturnType<typeof parseReference>;
      try {
        parsed = parseReference(ref);
      } catch (err) {
        throw new ImageStoreError(SOURCE, path, `reference ${JSON.stringify(ref)} does not parse`, {
          cause: err,
        });
      }
      out.set(parsed, id);
    }
  }
  return out;
}

function hexOf(store: string, digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new ImageStoreError(SOURCE, store, `${JSON.stringify(digest)} is not a sha256 digest`);
  return m[1]!;
}

function parseConfig(path: string, json: unknown): ImageConfig {
  if (json === undefined) throw new ImageStoreError(SOURCE, path, 'image config missing');
  if (!isRecord(json)) throw new ImageStoreError(SOURCE, path, 'image config is not a JSON object');
  const rootfs = json.rootfs;
  const diffIds = isRecord(rootfs) ? rootfs.diff_ids : undefined;
  if (!Array.isArray(diffIds) || diffIds.length === 0 || !diffIds.every((d) => typeof d === 'string')) {
    throw new ImageStoreError(SOURCE, path, 'image config has no rootfs.diff_ids');
  }
  if (!diffIds.every((d) => /^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new ImageStoreError(SOURCE, path, 'rootfs.diff_ids holds something other than sha256 digests');
  }
  const config: ImageConfig = { os: typeof json.os === 'string' ? json.os : 'unknown', diffIds };
  const osVersion = json['os.version'];
  if (typeof osVersion === 'string' && osVersion.length > 0) config.osVersion = osVersion;
  if (typeof json.architecture === 'string') config.architecture = json.architecture;
  if (typeof json.created === 'string') config.created = json.created;
  return config;
}

/**
 * The folder of a graph-driver layer. The Windows driver lets a folder hold a
 * `layerID` file naming the folder that really holds it (images migrated from
 * Docker's v1 store); follow it once.
 */
async function layerFolder(root: string, cacheId: string): Promise<string> {
  if (!/^[A-Za-z0-9_.-]+$/.test(cacheId) || cacheId === '.' || cacheId === '..') {
    throw new ImageStoreError(SOURCE, root, `cache-id ${JSON.stringify(cacheId)} is not a folder name`);
  }
  const folder = join(root, DRIVER, cacheId);
  const alt = (await readTextIfExists(join(folder, 'layerID')))?.trim();
  if (alt && alt !== cacheId && /^[A-Za-z0-9_.-]+$/.test(alt) && alt !== '.' && alt !== '..') {
    return join(root, DRIVER, alt);
  }
  return folder;
}

/**
 * The top layer's `layerchain.json` (written by the graph driver: its parents'
 * paths, nearest first) must name the same folders as the layer database.
 * Compared by folder name, ignoring case, since the data root may have moved.
 */
async function checkLayerChain(layers: LayerRef[]): Promise<void> {
  const top = layers[0];
  if (top === undefined || layers.length < 2) return;
  const path = join(top.path, 'layerchain.json');
  const json = await readJsonIfExists(SOURCE, path);
  if (json === undefined)
    throw new ImageStoreError(SOURCE, path, 'the top layer has parents but no layerchain.json');
  if (!Array.isArray(json) || !json.every((p) => typeof p === 'string')) {
    throw new ImageStoreError(SOURCE, path, 'layerchain.json is not a list of paths');
  }
  const expected = layers.slice(1).map((l) => baseName(l.path).toLowerCase());
  const found = json.map((p: string) => baseName(p).toLowerCase());
  if (expected.length !== found.length || expected.some((name, i) => name !== found[i])) {
    throw new ImageStoreError(
      SOURCE,
      path,
      `layerchain.json lists [${found.join(', ')}] but the layer database gives [${expected.join(', ')}]`,
    );
  }
}
