/**
 * `loadImage`: import images from a `docker save` tar (`manifest.json`,
 * `repositories`, `<id>/layer.tar` or `blobs/sha256/...`) or an OCI image layout
 * (`oci-layout`, `index.json`, `blobs/sha256/`), as a tar (plain or gzip) or a
 * folder. Every config, manifest and layer is verified against its digest.
 */
import { link, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { InvalidArgumentError } from '../../internal/errors.js';
import { exists } from '../../internal/fs.js';
import type { ImageRecord, Progress } from '../types.js';
import { DigestMismatchError, digestHex, isDigest, sha256File, sha256Of } from './digest.js';
import { layerCompression, safeEntrySegments, sniffCompression } from './layer-tar.js';
import { configDiffIds, parseJsonObject } from './pull.js';
import { type ImportOptions, importImage, type LayerBlob } from './pull-import.js';
import { parseReference } from './reference.js';
import { MEDIA_TYPES } from './registry-client.js';
import { ImageFormatError, NotAnImageError } from './registry-errors.js';
import {
  checkConfigPlatform,
  type Descriptor,
  indexEntries,
  type PlatformOptions,
  parseBuild,
  selectWindowsManifest,
  toDescriptor,
} from './registry-platform.js';
import { walkTar, writeEntryFile } from './tar-walk.js';

export interface LoadOptions extends ImportOptions {
  /** When given, images are checked against the host build like a pull (and a multi-platform OCI index is narrowed with it). */
  hostBuild?: number;
  allowOlderBuild?: boolean;
  /** The reference to record when the archive names none (default: the image id). */
  reference?: string;
}

interface FoundImage {
  reference: string | undefined;
  configPath: string;
  configDigest: string;
  layers: { path: string; digest: string; mediaType?: string }[];
}

/** Loads every image of the archive (or folder) at `path`; returns their records. */
export async function loadImage(path: string, options: LoadOptions): Promise<ImageRecord[]> {
  const { store, signal, onProgress } = options;
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new NotAnImageError(path, ['the file itself']);
  let root = path;
  let staging: string | undefined;
  try {
    if (!info.isDirectory()) {
      staging = await store.tempDir();
      await mkdir(staging, { recursive: true });
      root = join(staging, 'archive');
      await extractArchive(path, root, onProgress, signal);
    }
    const images = await findImages(root, path, options);
    const records: ImageRecord[] = [];
    for (const image of images) {
      signal?.throwIfAborted();
      records.push(await importFound(image, options));
    }
    return records;
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}

async function importFound(image: FoundImage, options: LoadOptions): Promise<ImageRecord> {
  const reference = image.reference ?? (options.reference ? normalise(options.reference) : undefined);
  if (reference === undefined) {
    throw new InvalidArgumentError(
      'reference',
      'a name for the image (the archive names none)',
      options.reference,
      `image ${image.configDigest}`,
    );
  }
  const config = parseJsonObject(await readFile(image.configPath), `config ${image.configDigest}`);
  if (options.hostBuild !== undefined) {
    checkConfigPlatform(config, image.configDigest, {
      hostBuild: options.hostBuild,
      ...(options.allowOlderBuild ? { allowOlderBuild: true } : {}),
    });
  } else if (config.os !== 'windows') {
    throw new ImageFormatError(`image ${image.configDigest}: config os is ${String(config.os)}, not windows`);
  }
  const diffIds = configDiffIds(config, `image ${image.configDigest}`);
  if (diffIds.length !== image.layers.length) {
    throw new ImageFormatError(
      `image ${image.configDigest}: ${image.layers.length} layers but ${diffIds.length} diff_ids in the config`,
    );
  }
  let sizeBytes = 0;
  const blobs: LayerBlob[] = [];
  for (const [i, layer] of image.layers.entries()) {
    const size = (await stat(layer.path)).size;
    sizeBytes += size;
    blobs.push({
      digest: layer.digest,
      diffId: diffIds[i] as string,
      path: layer.path,
      size,
      compression: layer.mediaType ? layerCompression(layer.mediaType) : await sniffCompression(layer.path),
    });
  }
  const osVersion = typeof config['os.version'] === 'string' ? config['os.version'] : undefined;
  const build = parseBuild(osVersion);
  const created = typeof config.created === 'string' ? config.created : undefined;
  const { record } = await importImage(
    blobs,
    {
      reference,
      id: image.configDigest,
      ...(osVersion !== undefined ? { osVersion } : {}),
      ...(build !== undefined ? { build } : {}),
      ...(created !== undefined ? { created } : {}),
      sizeBytes,
    },
    options,
  );
  return record;
}

async function findImages(root: string, shown: string, options: LoadOptions): Promise<FoundImage[]> {
  if (await exists(join(root, 'manifest.json'))) return findDockerSave(root, shown);
  const hasLayout = await exists(join(root, 'oci-layout'));
  const hasIndex = await exists(join(root, 'index.json'));
  if (hasLayout && hasIndex) return findOciLayout(root, shown, options);
  const missing = hasLayout || hasIndex ? [hasLayout ? 'index.json' : 'oci-layout'] : ['manifest.json'];
  if (!hasLayout && !hasIndex) missing.push('oci-layout', 'index.json');
  throw new NotAnImageError(shown, missing);
}

/** `docker save`: manifest.json lists Config and Layers as paths inside the archive. */
async function findDockerSave(root: string, shown: string): Promise<FoundImage[]> {
  const raw = await readFile(join(root, 'manifest.json'));
  let entries: unknown;
  try {
    entries = JSON.parse(raw.toString());
  } catch (err) {
    throw new ImageFormatError(`${shown}: manifest.json is not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new ImageFormatError(`${shown}: manifest.json is not a non-empty array`);
  }
  const images: FoundImage[] = [];
  for (const [n, e] of entries.entries()) {
    const entry = e as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
    if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw new ImageFormatError(`${shown}: manifest.json[${n}] lacks Config or Layers`);
    }
    const configPath = await member(root, shown, entry.Config);
    const configDigest = await sha256File(configPath);
    const named = nameDigest(entry.Config);
    if (named && named !== configDigest)
      throw new DigestMismatchError(`${shown}: ${entry.Config}`, named, configDigest);
    const layers: FoundImage['layers'] = [];
    for (const l of entry.Layers) {
      if (typeof l !== 'string')
        throw new ImageFormatError(`${shown}: manifest.json[${n}].Layers holds a non-string`);
      const layerPath = await member(root, shown, l);
      const digest = await sha256File(layerPath);
      const expected = nameDigest(l);
      if (expected && expected !== digest) throw new DigestMismatchError(`${shown}: ${l}`, expected, digest);
      layers.push({ path: layerPath, digest });
    }
    const tag = Array.isArray(entry.RepoTags) ? entry.RepoTags.find((t) => typeof t === 'string') : undefined;
    images.push({ reference: tag ? normalise(tag as string) : undefined, configPath, configDigest, layers });
  }
  return images;
}

/** OCI layout: index.json → (nested indexes) → manifests → config and layers in blobs/sha256/. */
async function findOciLayout(root: string, shown: string, options: LoadOptions): Promise<FoundImage[]> {
  const index = parseJsonObject(await readFile(join(root, 'index.json')), `${shown}: index.json`);
  const candidates: { desc: Descriptor; name: string | undefined }[] = [];
  const walk = async (entries: Descriptor[], name: string | undefined, depth: number): Promise<void> => {
    for (const d of entries) {
      const refName =
        d.annotations?.['io.containerd.image.name'] ??
        d.annotations?.['org.opencontainers.image.ref.name'] ??
        name;
      if (d.mediaType === MEDIA_TYPES.ociIndex || d.mediaType === MEDIA_TYPES.dockerList) {
        if (depth > 4) throw new ImageFormatError(`${shown}: indexes nested too deeply`);
        const nested = parseJsonObject(await readBlob(root, shown, d.digest), `${shown}: index ${d.digest}`);
        await walk(indexEntries(nested, `${shown}: index ${d.digest}`), refName, depth + 1);
      } else if (d.mediaType === MEDIA_TYPES.ociManifest || d.mediaType === MEDIA_TYPES.dockerManifest) {
        if (d.platform?.os && d.platform.os !== 'windows') continue;
        candidates.push({ desc: d, name: refName });
      }
    }
  };
  await walk(indexEntries(index, `${shown}: index.json`), undefined, 0);
  if (candidates.length === 0)
    throw new ImageFormatError(`${shown}: index.json lists no Windows image manifest`);
  // One image per name; several platform variants of one name are narrowed with the host build.
  const groups = new Map<string, typeof candidates>();
  for (const c of candidates) {
    const key = c.name ?? '';
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const images: FoundImage[] = [];
  for (const [key, group] of groups) {
    let chosen = group;
    if (group.length > 1 && options.hostBuild !== undefined) {
      const pick = selectWindowsManifest(
        group.map((g) => g.desc),
        {
          hostBuild: options.hostBuild,
          ...(options.allowOlderBuild ? { allowOlderBuild: true } : {}),
        } as PlatformOptions,
      );
      chosen = group.filter((g) => g.desc.digest === pick.digest).slice(0, 1);
    }
    for (const c of chosen) {
      const manifest = parseJsonObject(
        await readBlob(root, shown, c.desc.digest),
        `${shown}: manifest ${c.desc.digest}`,
      );
      const config = toDescriptor(manifest.config, `${shown}: manifest ${c.desc.digest} config`);
      const configPath = await blobPath(root, shown, config.digest);
      await verifyFile(configPath, config.digest, shown);
      if (!Array.isArray(manifest.layers))
        throw new ImageFormatError(`${shown}: manifest ${c.desc.digest} has no layers`);
      const layers: FoundImage['layers'] = [];
      for (const [i, l] of manifest.layers.entries()) {
        const d = toDescriptor(l, `${shown}: manifest ${c.desc.digest} layers[${i}]`);
        const p = await blobPath(root, shown, d.digest);
        await verifyFile(p, d.digest, shown);
        layers.push({ path: p, digest: d.digest, mediaType: d.mediaType });
      }
      images.push({
        reference: key ? normalise(key) : undefined,
        configPath,
        configDigest: config.digest,
        layers,
      });
    }
  }
  return images;
}

function normalise(name: string): string {
  try {
    return parseReference(name).normalized;
  } catch {
    return name;
  }
}

/** `blobs/sha256/<hex>` or `<hex>.json` / `<hex>/layer.tar` names carry a digest. */
function nameDigest(member: string): string | undefined {
  const m = /(?:^|\/)blobs\/sha256\/([0-9a-f]{64})$/.exec(member) ?? /^([0-9a-f]{64})\.json$/.exec(member);
  return m ? `sha256:${m[1]}` : undefined;
}

async function member(root: string, shown: string, name: string): Promise<string> {
  const segments = safeEntrySegments(name);
  const p = join(root, ...segments);
  if (!(await exists(p))) throw new NotAnImageError(shown, [segments.join('/')], 'listed in manifest.json');
  return p;
}

async function blobPath(root: string, shown: string, digest: string): Promise<string> {
  if (!isDigest(digest)) throw new ImageFormatError(`${shown}: bad digest ${digest}`);
  const p = join(root, 'blobs', 'sha256', digestHex(digest));
  if (!(await exists(p)))
    throw new NotAnImageError(shown, [`blobs/sha256/${digestHex(digest)}`], 'referenced by the index');
  return p;
}

async function readBlob(root: string, shown: string, digest: string): Promise<Buffer> {
  const bytes = await readFile(await blobPath(root, shown, digest));
  const actual = sha256Of(bytes);
  if (actual !== digest) throw new DigestMismatchError(`${shown}: blob ${digest}`, digest, actual);
  return bytes;
}

async function verifyFile(path: string, digest: string, shown: string): Promise<void> {
  const actual = await sha256File(path);
  if (actual !== digest) throw new DigestMismatchError(`${shown}: blob ${digest}`, digest, actual);
}

/**
 * Unpacks the outer archive (plain or gzip tar) into `dest`: regular files and
 * folders only, names checked; symlinks inside the archive (docker save shares
 * identical layers that way) become hard links when their target is inside.
 */
async function extractArchive(
  tarPath: string,
  dest: string,
  onProgress: ((p: Progress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const gzip = (await sniffCompression(tarPath)) === 'gzip';
  await mkdir(dest, { recursive: true });
  const links: { at: string[]; to: string[] }[] = [];
  await walkTar(
    tarPath,
    {
      gzip,
      formatError: (detail, cause) => new ImageFormatError(`${tarPath}: ${detail}`, { cause }),
      ...(onProgress
        ? { onRead: (done, total) => onProgress({ item: tarPath, phase: 'read', done, total }) }
        : {}),
      ...(signal ? { signal } : {}),
    },
    async (entry) => {
      const { header } = entry;
      const segments = safeEntrySegments(header.name);
      if (segments.length === 0) return;
      const target = join(dest, ...segments);
      if (header.type === 'directory') {
        await mkdir(target, { recursive: true });
      } else if (header.type === 'file' || header.type === 'contiguous-file') {
        await writeEntryFile(entry, target);
      } else if (header.type === 'symlink' || header.type === 'link') {
        const linkName = header.linkname ?? '';
        const resolved =
          header.type === 'symlink' ? posix.join(posix.dirname(segments.join('/')), linkName) : linkName;
        links.push({ at: segments, to: safeEntrySegments(resolved) });
      }
    },
  );
  for (const l of links) {
    const from = join(dest, ...l.to);
    if (!(await exists(from))) continue;
    const at = join(dest, ...l.at);
    await mkdir(dirname(at), { recursive: true });
    await rm(at, { force: true });
    await link(from, at);
  }
}
