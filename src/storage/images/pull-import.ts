/**
 * The part of pulling and loading that touches the store: extract each layer,
 * import it with the injected `LayerImporter` into a staging folder inside the
 * store, and only when every layer has been imported rename them into place and
 * add the image record. Any failure leaves the store as it was (staging folders
 * removed, layers renamed in by this call removed again).
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exists } from '../../internal/fs.js';
import type { ImageRecord, LayerImporter, LayerRef, Progress } from '../types.js';
import { chainIds } from './chain-id.js';
import { defaultLayerId } from './layer-id.js';
import { extractLayerTar, type LayerCompression, removeExtractedLayer } from './layer-tar.js';

/** What pulling and loading need from the image store (the own store offers it). */
export interface ImageStoreTarget {
  /** The store's folder, when it has one: `pullImage`'s default blob cache is `<root>\blobs`. */
  readonly root?: string;
  /** The final folder of the layer with this chain id (need not exist). */
  layerDir(chainId: string): string;
  /**
   * A fresh work folder inside the store, on the layers' volume (so a finished
   * layer is renamed into place atomically). The caller owns it and removes it.
   */
  tempDir(): string | Promise<string>;
  /** Records an image whose layers are all in place. */
  addImage(record: ImageRecord): Promise<unknown>;
  /** The GUID HCS knows a layer by; default `defaultLayerId(layerDir(chainId))`. */
  layerId?(chainId: string): string;
}

/** Options shared by `pullImage` and `loadImage`. */
export interface ImportOptions {
  store: ImageStoreTarget;
  importLayer: LayerImporter;
  /**
   * Sets up a base layer once it is in its final folder (on Windows: the
   * storage module's `setupBaseLayer`; a real host cannot use a base layer
   * without it). Default: nothing, for importers that are not HCS.
   */
  setupBaseLayer?: (path: string) => Promise<void>;
  /** Removes an imported layer folder (on Windows: HcsDestroyLayer; layer ACLs defeat a plain delete). Default: `fs.rm`. */
  destroyLayer?: (path: string) => Promise<void>;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
}

/** One layer ready to import: a verified blob on disk. */
export interface LayerBlob {
  /** The blob's digest (compressed digest for registry layers). */
  digest: string;
  /** sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
  diffId: string;
  path?: string;
  compression?: LayerCompression;
  size: number;
  /** The most bytes the layer's tar may inflate to (a registry layer's decompression-bomb cap). */
  maxTarBytes?: number;
}

/** What the image record says besides its layers. */
export interface ImageInfo {
  reference: string;
  id: string;
  osVersion?: string;
  build?: number;
  created?: string;
  sizeBytes?: number;
}

export interface ImportedLayer {
  digest: string;
  chainId: string;
  /** False when the store already had it. */
  imported: boolean;
}

/** Chain ids of diff ids (base first) and which of them the store lacks. */
export async function missingLayers(
  store: ImageStoreTarget,
  diffIds: readonly string[],
): Promise<{ chain: string[]; missing: boolean[] }> {
  const chain = chainIds(diffIds);
  const missing = await Promise.all(chain.map(async (c) => !(await exists(store.layerDir(c)))));
  return { chain, missing };
}

/**
 * Imports `layers` (base first; `path` needed for the ones the store lacks) and
 * adds the image. Returns the record that was added.
 */
export async function importImage(
  layers: readonly LayerBlob[],
  info: ImageInfo,
  options: ImportOptions,
): Promise<{ record: ImageRecord; layers: ImportedLayer[] }> {
  const { store, importLayer, onProgress, signal } = options;
  const destroy = options.destroyLayer ?? ((p: string) => rm(p, { recursive: true, force: true }));
  const { chain, missing } = await missingLayers(
    store,
    layers.map((l) => l.diffId),
  );
  const idOf = (c: string) => store.layerId?.(c) ?? defaultLayerId(store.layerDir(c));
  const refs: LayerRef[] = [];
  const staged: { index: number; path: string }[] = [];
  const placed: string[] = [];
  const staging = await store.tempDir();
  await mkdir(staging, { recursive: true });
  try {
    for (const [i, layer] of layers.entries()) {
      signal?.throwIfAborted();
      const chainId = chain[i] as string;
      if (!missing[i]) {
        refs.push({ id: idOf(chainId), path: store.layerDir(chainId) });
        continue;
      }
      if (!layer.path) throw new Error(`internal: layer ${layer.digest} has no blob path`);
      const extracted = join(staging, `extract-${i}`);
      await extractLayerTar(layer.path, extracted, {
        expectedDiffId: layer.diffId,
        name: layer.digest,
        // Hard links into a parent layer are copied from it (transport-writer.ts).
        parents: refs.map((r) => r.path).reverse(),
        ...(layer.compression ? { compression: layer.compression } : {}),
        ...(layer.maxTarBytes !== undefined ? { maxTarBytes: layer.maxTarBytes } : {}),
        ...(onProgress
          ? { onProgress: (p: Progress) => onProgress({ ...p, item: layer.digest, phase: 'extract' }) }
          : {}),
        ...(signal ? { signal } : {}),
      });
      const target = join(staging, `layer-${i}`);
      await mkdir(target);
      staged.push({ index: i, path: target });
      onProgress?.({ item: layer.digest, phase: 'import', done: 0, total: 1 });
      const parents = [...refs].reverse();
      await importLayer(target, extracted, parents);
      signal?.throwIfAborted();
      onProgress?.({ item: layer.digest, phase: 'import', done: 1, total: 1 });
      await removeExtractedLayer(extracted);
      refs.push({ id: idOf(chainId), path: target });
    }
    // Everything imported: move the new layers into place, base first.
    for (const s of staged) {
      const chainId = chain[s.index] as string;
      const final = store.layerDir(chainId);
      await mkdir(dirname(final), { recursive: true });
      if (await exists(final)) {
        // Another pull put the same layer in place meanwhile: keep theirs.
        await destroy(s.path);
      } else {
        await rename(s.path, final);
        placed.push(final);
        // After the move: its differencing disks record this absolute path.
        if (s.index === 0) await options.setupBaseLayer?.(final);
      }
      refs[s.index] = { id: idOf(chainId), path: final };
    }
    const record: ImageRecord = {
      reference: info.reference,
      id: info.id,
      source: 'hcs-sandbox',
      os: 'windows',
      ...(info.osVersion !== undefined ? { osVersion: info.osVersion } : {}),
      ...(info.build !== undefined ? { build: info.build } : {}),
      ...(info.sizeBytes !== undefined ? { sizeBytes: info.sizeBytes } : {}),
      ...(info.created !== undefined ? { created: info.created } : {}),
      layers: [...refs].reverse(),
    };
    const stored = await store.addImage(record);
    onProgress?.({ item: info.reference, phase: 'done', done: 1, total: 1 });
    return {
      // The store may normalise the record (the own store normalises the reference): return what it kept.
      record: isImageRecord(stored) ? stored : record,
      layers: layers.map((l, i) => ({
        digest: l.digest,
        chainId: chain[i] as string,
        imported: missing[i] === true,
      })),
    };
  } catch (err) {
    for (const p of placed.reverse()) await destroy(p).catch(() => {});
    throw err;
  } finally {
    for (const s of staged) await destroy(s.path).catch(() => {});
    await rm(staging, { recursive: true, force: true }).catch(() => {});
  }
}

function isImageRecord(value: unknown): value is ImageRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ImageRecord).reference === 'string' &&
    Array.isArray((value as ImageRecord).layers)
  );
}
