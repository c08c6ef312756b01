/**
 * Picking the manifest of a multi-platform image that this Windows host can run.
 * Process isolation needs the image's build to equal the host's; Hyper-V
 * isolation also runs older builds (`allowOlderBuild`: the newest build <= host).
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import { assertDigest } from './digest.js';
import { ImageFormatError, type OfferedPlatform, PlatformMismatchError } from './registry-errors.js';

/** An OCI descriptor (index entry, config, layer). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; 'os.version'?: string; variant?: string };
}

export interface PlatformOptions {
  /** The host's Windows build (`20348`). */
  hostBuild: number;
  /** Accept the newest build <= the host's when none matches exactly (Hyper-V isolation). */
  allowOlderBuild?: boolean;
}

/** `10.0.20348.2227` → 20348; undefined when the text has no build. */
export function parseBuild(osVersion: string | undefined): number | undefined {
  if (!osVersion) return undefined;
  const build = Number(osVersion.split('.')[2]);
  return Number.isInteger(build) && build > 0 ? build : undefined;
}

/** Checks and types a descriptor from a manifest, index or `docker save`/OCI layout. */
export function toDescriptor(value: unknown, field: string): Descriptor {
  if (!value || typeof value !== 'object') throw new ImageFormatError(`${field} is not a descriptor object`);
  const v = value as Record<string, unknown>;
  let digest: string;
  try {
    digest = assertDigest(v.digest, `${field}.digest`);
  } catch (err) {
    throw new ImageFormatError((err as Error).message);
  }
  const size = typeof v.size === 'number' && Number.isSafeInteger(v.size) && v.size >= 0 ? v.size : undefined;
  if (size === undefined) throw new ImageFormatError(`${field}.size is not a non-negative integer`);
  const d: Descriptor = { mediaType: typeof v.mediaType === 'string' ? v.mediaType : '', digest, size };
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u): u is string => typeof u === 'string');
  if (v.annotations && typeof v.annotations === 'object')
    d.annotations = v.annotations as Record<string, string>;
  if (v.platform && typeof v.platform === 'object')
    d.platform = v.platform as NonNullable<Descriptor['platform']>;
  return d;
}

/** The entries of an index (`manifests`), typed. */
export function indexEntries(index: Record<string, unknown>, where: string): Descriptor[] {
  if (!Array.isArray(index.manifests)) throw new ImageFormatError(`${where}: index has no manifests array`);
  return index.manifests.map((m, i) => toDescriptor(m, `${where}.manifests[${i}]`));
}

/** Chooses the windows/amd64 entry for the host build, or throws `PlatformMismatchError` listing the offer. */
export function selectWindowsManifest(entries: readonly Descriptor[], options: PlatformOptions): Descriptor {
  checkHostBuild(options.hostBuild);
  const offered: OfferedPlatform[] = entries.map((e) => ({
    os: e.platform?.os ?? 'unknown',
    architecture: e.platform?.architecture ?? 'unknown',
    ...(e.platform?.['os.version'] ? { osVersion: e.platform['os.version'] } : {}),
    digest: e.digest,
  }));
  const windows = entries.filter((e) => e.platform?.os === 'windows' && e.platform.architecture === 'amd64');
  const withBuild = windows.map((e) => ({ e, build: parseBuild(e.platform?.['os.version']) }));
  const exact = withBuild.filter((c) => c.build === options.hostBuild);
  // Several entries of the same build (revisions): the newest full version wins.
  const newest = (list: typeof withBuild) =>
    [...list].sort((a, b) => compareVersions(b.e.platform?.['os.version'], a.e.platform?.['os.version']))[0]
      ?.e;
  const hit = newest(exact);
  if (hit) return hit;
  if (options.allowOlderBuild) {
    const older = withBuild.filter((c) => c.build !== undefined && c.build <= options.hostBuild);
    const pick = newest(older);
    if (pick) return pick;
  }
  throw new PlatformMismatchError(options.hostBuild, offered, options.allowOlderBuild === true);
}

/**
 * For a single-platform manifest: checks the config's `os`/`architecture`/`os.version`
 * against the host the same way. A config without `os.version` is accepted (build unknown).
 */
export function checkConfigPlatform(
  config: Record<string, unknown>,
  digest: string,
  options: PlatformOptions,
): void {
  checkHostBuild(options.hostBuild);
  const os = typeof config.os === 'string' ? config.os : 'unknown';
  const architecture = typeof config.architecture === 'string' ? config.architecture : 'unknown';
  const osVersion = typeof config['os.version'] === 'string' ? config['os.version'] : undefined;
  const build = parseBuild(osVersion);
  const ok =
    os === 'windows' &&
    architecture === 'amd64' &&
    (build === undefined ||
      build === options.hostBuild ||
      (options.allowOlderBuild === true && build <= options.hostBuild));
  if (!ok) {
    throw new PlatformMismatchError(
      options.hostBuild,
      [{ os, architecture, ...(osVersion ? { osVersion } : {}), digest }],
      options.allowOlderBuild === true,
    );
  }
}

function checkHostBuild(hostBuild: number): void {
  if (!Number.isSafeInteger(hostBuild) || hostBuild <= 0) {
    throw new InvalidArgumentError('hostBuild', 'a positive Windows build number (e.g. 20348)', hostBuild);
  }
}

function compareVersions(a: string | undefined, b: string | undefined): number {
  const pa = (a ?? '').split('.').map(Number);
  const pb = (b ?? '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}
