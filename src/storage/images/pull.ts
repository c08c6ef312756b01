/**
 * Daemonless pull: resolve a reference on a registry, pick the manifest for the
 * host's Windows build, download the layers the store lacks (verified, resumable),
 * import them with the injected `LayerImporter` and record the image.
 */
import { storeRoot } from '../../internal/store-root.js';
import type { ImageRecord, Progress } from '../types.js';
import { BlobCache, defaultBlobCacheDir } from './blob-cache.js';
import { DigestMismatchError, isDigest } from './digest.js';
import { layerCompression } from './layer-tar.js';
import {
  type ImportedLayer,
  type ImportOptions,
  importImage,
  type LayerBlob,
  missingLayers,
} from './pull-import.js';
import { type ImageReference, parseReference } from './reference.js';
import {
  type FetchedManifest,
  MEDIA_TYPES,
  RegistryClient,
  type RegistryCredentials,
} from './registry-client.js';
import {
  ImageFormatError,
  NotAWindowsLayerError,
  RegistryError,
  UnsafeLayerPathError,
} from './registry-errors.js';
import { fetchWithTimeout, maxLayerTarBytes, type RegistryLimits } from './registry-limits.js';
import {
  checkConfigPlatform,
  type Descriptor,
  indexEntries,
  type PlatformOptions,
  parseBuild,
  selectWindowsManifest,
  toDescriptor,
} from './registry-platform.js';

export interface PullOptions extends ImportOptions, PlatformOptions {
  /**
   * Blob cache (kept across pulls so an interrupted download resumes). Default:
   * `<store root>\blobs` (the store's `root`, else `storeRoot()`). A folder given
   * here is checked like the store root: owned by administrators or this user,
   * reachable by nobody else, not a link.
   */
  cacheDir?: string;
  /** Keep downloaded layer blobs in the cache after a successful pull (default false: they are large). */
  keepBlobs?: boolean;
  credentials?: RegistryCredentials;
  /** Send `credentials` to a token service on another host than the registry's (default false). */
  allowCrossHostRealm?: boolean;
  /** Allow plain HTTP to a non-loopback registry. */
  plainHttp?: boolean;
  /** Parallel layer downloads (default 3). */
  concurrency?: number;
  /** Replaces the global `fetch` (tests, proxies). */
  fetch?: typeof fetch;
  /** Body caps and timeouts replacing those of `REGISTRY_LIMITS`. */
  limits?: Partial<RegistryLimits>;
}

export interface PullResult {
  image: ImageRecord;
  /** The digest of the platform manifest that was pulled. */
  manifestDigest: string;
  layers: (ImportedLayer & { resumedFrom: number })[];
}

interface ResolvedImage {
  manifest: FetchedManifest;
  config: Record<string, unknown>;
  configDigest: string;
  layers: Descriptor[];
  diffIds: string[];
}

/**
 * Pulls `reference` (`mcr.microsoft.com/windows/nanoserver:ltsc2022`,
 * `127.0.0.1:5000/x@sha256:...`) into the store. Progress events: `resolve`
 * (item = reference), `download` (item = layer digest, done/total bytes),
 * `extract` (bytes of the blob read), `import` (0/1, 1/1), `done`.
 */
export async function pullImage(reference: string, options: PullOptions): Promise<PullResult> {
  const ref = parseReference(reference);
  const { signal, onProgress } = options;
  const client = new RegistryClient({
    registry: ref.domain,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.plainHttp ? { plainHttp: true } : {}),
    ...(options.allowCrossHostRealm ? { allowCrossHostRealm: true } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const name = ref.normalized;
  onProgress?.({ item: name, phase: 'resolve', done: 0 });
  const resolved = await resolveImage(client, ref, options, signal);
  onProgress?.({ item: name, phase: 'resolve', done: 1, total: 1 });

  const { missing } = await missingLayers(options.store, resolved.diffIds);
  const root = options.store.root ?? storeRoot();
  const cache =
    options.cacheDir !== undefined
      ? new BlobCache(options.cacheDir)
      : new BlobCache(defaultBlobCacheDir(root), { storeRoot: root });
  const resumed = new Map<string, number>();
  const toFetch = resolved.layers.filter((_, i) => missing[i]);
  await runPool(toFetch, options.concurrency ?? 3, async (layer) => {
    const result = await cache.fetch(
      layer.digest,
      (offset, s) => openLayerBlob(client, ref.path, layer, offset, s, options.fetch ?? fetch),
      {
        size: layer.size,
        subject: `layer ${layer.digest} of ${name}`,
        idleTimeoutMs: client.limits.idleTimeoutMs,
        minBytesPerSecond: client.limits.minBytesPerSecond,
        ...(onProgress ? { onProgress: (p: Progress) => onProgress(p) } : {}),
        ...(signal ? { signal } : {}),
      },
    );
    resumed.set(layer.digest, result.resumedFrom);
  });

  const blobs: LayerBlob[] = resolved.layers.map((layer, i) => ({
    digest: layer.digest,
    diffId: resolved.diffIds[i] as string,
    size: layer.size,
    compression: layerCompression(layer.mediaType),
    maxTarBytes: maxLayerTarBytes(layer.size, client.limits),
    ...(missing[i] ? { path: cache.path(layer.digest) } : {}),
  }));
  const osVersion =
    typeof resolved.config['os.version'] === 'string' ? resolved.config['os.version'] : undefined;
  const build = parseBuild(osVersion);
  const created = typeof resolved.config.created === 'string' ? resolved.config.created : undefined;
  const removeBlobs = async () => {
    for (const layer of toFetch) await cache.remove(layer.digest).catch(() => {});
  };
  const result = await importImage(
    blobs,
    {
      reference: name,
      id: resolved.configDigest,
      ...(osVersion !== undefined ? { osVersion } : {}),
      ...(build !== undefined ? { build } : {}),
      ...(created !== undefined ? { created } : {}),
      sizeBytes: resolved.layers.reduce((n, l) => n + l.size, 0),
    },
    options,
  ).catch(async (err: unknown) => {
    // A blob whose content was refused (a decompression bomb, an unsafe path, a wrong
    // diff id) would be refused again: it does not stay in the cache.
    if (!options.keepBlobs && isRefusedContent(err)) await removeBlobs();
    throw err;
  });
  if (!options.keepBlobs) await removeBlobs();
  return {
    image: result.record,
    manifestDigest: resolved.manifest.digest,
    layers: result.layers.map((l) => ({ ...l, resumedFrom: resumed.get(l.digest) ?? 0 })),
  };
}

/** Resolves a reference to its platform manifest, config and layers (no layer download). */
async function resolveImage(
  client: RegistryClient,
  ref: ImageReference,
  platform: PlatformOptions,
  signal: AbortSignal | undefined,
): Promise<ResolvedImage> {
  const where = ref.normalized;
  let manifest = await client.getManifest(ref.path, ref.digest ?? ref.tag ?? 'latest', signal);
  let fromIndex = false;
  if (isIndex(manifest)) {
    const entry = selectWindowsManifest(indexEntries(manifest.json, where), platform);
    manifest = await client.getManifest(ref.path, entry.digest, signal);
    fromIndex = true;
    if (isIndex(manifest))
      throw new ImageFormatError(`${where}: nested index ${entry.digest} is not supported`);
  }
  if (manifest.mediaType !== MEDIA_TYPES.ociManifest && manifest.mediaType !== MEDIA_TYPES.dockerManifest) {
    throw new ImageFormatError(
      `${where}: unsupported manifest media type ${JSON.stringify(manifest.mediaType)}`,
    );
  }
  const configDesc = toDescriptor(manifest.json.config, `${where} config`);
  const config = parseJsonObject(
    await client.getBlobBytes(ref.path, configDesc.digest, signal),
    `${where} config`,
  );
  if (!fromIndex) checkConfigPlatform(config, manifest.digest, platform);
  else if (config.os !== 'windows')
    throw new ImageFormatError(`${where}: config os is ${String(config.os)}, not windows`);
  if (!Array.isArray(manifest.json.layers))
    throw new ImageFormatError(`${where}: manifest has no layers array`);
  const layers = manifest.json.layers.map((l, i) => toDescriptor(l, `${where} layers[${i}]`));
  for (const l of layers) layerCompression(l.mediaType);
  const diffIds = configDiffIds(config, where);
  if (diffIds.length !== layers.length) {
    throw new ImageFormatError(
      `${where}: ${layers.length} layers but ${diffIds.length} diff_ids in the config`,
    );
  }
  return { manifest, config, configDigest: configDesc.digest, layers, diffIds };
}

function isRefusedContent(err: unknown): boolean {
  return (
    err instanceof NotAWindowsLayerError ||
    err instanceof UnsafeLayerPathError ||
    err instanceof DigestMismatchError
  );
}

function isIndex(m: FetchedManifest): boolean {
  return (
    m.mediaType === MEDIA_TYPES.ociIndex ||
    m.mediaType === MEDIA_TYPES.dockerList ||
    (m.mediaType === '' && Array.isArray(m.json.manifests))
  );
}

/** The config's `rootfs.diff_ids`, checked. */
export function configDiffIds(config: Record<string, unknown>, where: string): string[] {
  const rootfs = config.rootfs as { diff_ids?: unknown } | undefined;
  const ids = rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every(isDigest)) {
    throw new ImageFormatError(`${where}: config has no valid rootfs.diff_ids`);
  }
  return ids as string[];
}

export function parseJsonObject(bytes: Buffer | string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString());
  } catch (err) {
    throw new ImageFormatError(`${what} is not JSON (${(err as Error).message})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ImageFormatError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** A layer blob from the registry, or from its foreign `urls` (https only) when the registry lacks it. */
async function openLayerBlob(
  client: RegistryClient,
  repository: string,
  layer: Descriptor,
  offset: number,
  signal: AbortSignal | undefined,
  fetchImpl: typeof fetch,
): Promise<Response> {
  try {
    return await client.openBlob(repository, layer.digest, offset, signal);
  } catch (err) {
    const urls = (layer.urls ?? []).filter((u) => u.startsWith('https://'));
    if (!(err instanceof RegistryError && err.status === 404) || urls.length === 0) throw err;
    let last: unknown = err;
    for (const url of urls) {
      const headers = offset > 0 ? { range: `bytes=${offset}-` } : {};
      const what = `foreign layer ${layer.digest}`;
      const res = await fetchWithTimeout(fetchImpl, url, { headers }, client.limits, what, signal).catch(
        (e: unknown) => {
          last = e;
          return undefined;
        },
      );
      if (res && (res.status === 200 || res.status === 206 || res.status === 416)) return res;
      if (res) await res.body?.cancel().catch(() => {});
      if (res) last = new RegistryError(`foreign layer ${layer.digest}: HTTP ${res.status}`, res.status, url);
    }
    throw last;
  }
}

async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.err;
}
