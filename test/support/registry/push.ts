/**
 * Builds small synthetic Windows-format layers and images, and pushes them to a
 * registry through the distribution API (monolithic upload: POST then PUT with
 * `?digest=`; manifests by PUT). Loopback only.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';

export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** A self-relative security descriptor (O:BA G:BA, empty DACL), base64, as hcsshim writes MSWINDOWS.rawsd. */
export const SAMPLE_RAWSD = Buffer.from(
  '0100048014000000300000000000000000000000010200000000000520000000200200000102000000000005200000002002000000',
  'hex',
).toString('base64');

export interface TarEntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  content?: string | Buffer;
  linkname?: string;
  pax?: Record<string, string>;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A tar of `entries` (PAX records where given). */
export async function makeTar(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? (e.content !== undefined ? 'file' : 'directory');
    const content = e.content === undefined ? undefined : Buffer.from(e.content);
    await new Promise<void>((resolve, reject) => {
      const header = {
        name: e.name,
        type,
        mode: type === 'directory' ? 0o755 : 0o644,
        mtime: new Date(1_700_000_000_000),
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
        ...(content ? { size: content.length } : {}),
        ...(e.pax ? { pax: e.pax } : {}),
      };
      p.entry(header as Parameters<typeof p.entry>[0], content ?? undefined, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Windows-style metadata for an entry. */
export function winPax(attributes = 0x20): Record<string, string> {
  return { 'MSWINDOWS.rawsd': SAMPLE_RAWSD, 'MSWINDOWS.fileattr': String(attributes) };
}

export interface BuiltLayer {
  /** The uncompressed tar. */
  tar: Buffer;
  diffId: string;
  /** What is pushed (gzip unless `gzip: false`). */
  blob: Buffer;
  digest: string;
  mediaType: string;
  size: number;
}

/** A small Windows layer: `Files/` and `Hives/` entries with PAX metadata, plus `extra` entries. */
export async function windowsLayer(
  label: string,
  options: { extra?: TarEntrySpec[]; gzip?: boolean; bigFileBytes?: number; mediaType?: string } = {},
): Promise<BuiltLayer> {
  const entries: TarEntrySpec[] = [
    { name: 'Files', pax: winPax(0x10) },
    { name: 'Files/Windows', pax: winPax(0x10) },
    { name: `Files/Windows/${label}.txt`, content: `layer ${label}\n`, pax: winPax(0x20) },
    { name: 'Hives', pax: winPax(0x10) },
    // Every layer carries the five hive deltas (HcsImportLayer refuses a layer without them).
    ...['DefaultUser', 'Sam', 'Security', 'Software', 'System'].map((h) => ({
      name: `Hives/${h}_Delta`,
      content: `hive ${label} ${h}`,
      pax: winPax(0x80),
    })),
  ];
  if (options.bigFileBytes) {
    // Incompressible, so the blob is about this big and downloads in several chunks.
    const seed = createHash('sha256').update(label).digest();
    const big = Buffer.alloc(options.bigFileBytes);
    for (let i = 0; i < big.length; i += 32) {
      createHash('sha256').update(seed).update(String(i)).digest().copy(big, i);
    }
    entries.push({ name: `Files/${label}.bin`, content: big, pax: winPax(0x20) });
  }
  entries.push(...(options.extra ?? []));
  const tar = await makeTar(entries);
  const gzip = options.gzip !== false;
  const blob = gzip ? gzipSync(tar) : tar;
  return {
    tar,
    diffId: sha256(tar),
    blob,
    digest: sha256(blob),
    mediaType: options.mediaType ?? (gzip ? OCI_LAYER_GZIP : OCI_LAYER_TAR),
    size: blob.length,
  };
}

/** A Windows image config for these layers. */
export function windowsConfig(diffIds: readonly string[], osVersion: string, os = 'windows'): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os,
      'os.version': osVersion,
      created: '2024-01-01T00:00:00Z',
      config: { Cmd: ['cmd.exe'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
}

export interface BuiltImage {
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
  manifestDigest: string;
  layers: BuiltLayer[];
  osVersion: string;
}

/** An OCI (or Docker v2) manifest over `layers` (base first) and a config. */
export function buildImage(
  layers: BuiltLayer[],
  osVersion: string,
  options: { docker?: boolean; diffIds?: string[]; os?: string } = {},
): BuiltImage {
  const config = windowsConfig(options.diffIds ?? layers.map((l) => l.diffId), osVersion, options.os);
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: options.docker ? DOCKER_MANIFEST : OCI_MANIFEST,
      config: {
        mediaType: options.docker ? DOCKER_CONFIG : OCI_CONFIG,
        digest: configDigest,
        size: config.length,
      },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { config, configDigest, manifest, manifestDigest: sha256(manifest), layers, osVersion };
}

/** An index with one windows/amd64 entry per image. */
export function buildIndex(images: BuiltImage[], options: { docker?: boolean } = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: options.docker ? DOCKER_LIST : OCI_INDEX,
      manifests: images.map((i) => ({
        mediaType: options.docker ? DOCKER_MANIFEST : OCI_MANIFEST,
        digest: i.manifestDigest,
        size: i.manifest.length,
        platform: { os: 'windows', architecture: 'amd64', 'os.version': i.osVersion },
      })),
    }),
  );
}

/** Monolithic blob upload: POST /blobs/uploads/, then PUT <location>?digest=. */
export async function pushBlob(registryUrl: string, repo: string, blob: Buffer): Promise<string> {
  const digest = sha256(blob);
  const head = await fetch(`${registryUrl}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return digest;
  const start = await fetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start: HTTP ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) },
    body: blob,
  });
  if (put.status !== 201) throw new Error(`upload ${digest}: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

export async function pushManifest(
  registryUrl: string,
  repo: string,
  reference: string,
  manifest: Buffer,
  mediaType: string,
): Promise<string> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: manifest,
  });
  if (res.status !== 201)
    throw new Error(`manifest ${repo}:${reference}: HTTP ${res.status} ${await res.text()}`);
  return sha256(manifest);
}

/** Pushes an image's blobs and its manifest (under `tag`, or only by digest when no tag). */
export async function pushImage(
  registryUrl: string,
  repo: string,
  image: BuiltImage,
  tag?: string,
): Promise<void> {
  for (const l of image.layers) await pushBlob(registryUrl, repo, l.blob);
  await pushBlob(registryUrl, repo, image.config);
  const type = (JSON.parse(image.manifest.toString()) as { mediaType: string }).mediaType;
  await pushManifest(registryUrl, repo, tag ?? image.manifestDigest, image.manifest, type);
}

/** Pushes several images and an index over them under `tag`. */
export async function pushMultiPlatform(
  registryUrl: string,
  repo: string,
  tag: string,
  images: BuiltImage[],
  options: { docker?: boolean } = {},
): Promise<string> {
  for (const image of images) await pushImage(registryUrl, repo, image);
  return pushManifest(
    registryUrl,
    repo,
    tag,
    buildIndex(images, options),
    options.docker ? DOCKER_LIST : OCI_INDEX,
  );
}
