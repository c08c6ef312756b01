import { InvalidArgumentError } from '../../internal/errors.js';
import type { ImageRecord, ImageSource, ImageSourceName } from '../types.js';
import { ContainerdImageSource, type ContainerdImageSourceOptions } from './containerd-store.js';
import { DockerImageSource, type DockerImageSourceOptions } from './docker-store.js';
import { ImageNotFoundError } from './errors.js';
import { type HostBaseImageOptions, HostBaseImageSource } from './host-base-image.js';
import { OwnImageSource, type OwnStoreOptions } from './own-store.js';

/** Every source name, in the default resolution order: ours first, then Docker, containerd, the host. */
export const SOURCE_ORDER: readonly ImageSourceName[] = ['hcs-sandbox', 'docker', 'containerd', 'host'];

export interface DefaultSourcesOptions {
  own?: OwnStoreOptions;
  docker?: DockerImageSourceOptions;
  containerd?: ContainerdImageSourceOptions;
  host?: HostBaseImageOptions;
  /** Leave these sources out. */
  exclude?: readonly ImageSourceName[];
}

/** One source of each kind, in `SOURCE_ORDER`, each with its default root unless given. */
export function defaultSources(options: DefaultSourcesOptions = {}): ImageSource[] {
  const all: ImageSource[] = [
    new OwnImageSource(options.own),
    new DockerImageSource(options.docker),
    new ContainerdImageSource(options.containerd),
    new HostBaseImageSource(options.host),
  ];
  return all.filter((s) => !options.exclude?.includes(s.name));
}

/** A source that failed to list (its store is broken, or unreadable). */
export interface SourceFailure {
  source: ImageSourceName;
  error: unknown;
}

export interface ListImagesOptions {
  /** Default `defaultSources()`. */
  sources?: readonly ImageSource[];
  /**
   * Called for a source whose listing throws; the other sources are still
   * listed. Without it, the first failure is thrown.
   */
  onSourceError?: (failure: SourceFailure) => void;
}

/**
 * Every image every source offers, sorted by reference, then by source in
 * `SOURCE_ORDER`. The same reference may appear once per source.
 */
export async function listImages(options: ListImagesOptions = {}): Promise<ImageRecord[]> {
  const sources = options.sources ?? defaultSources();
  const settled = await Promise.allSettled(sources.map((s) => s.list()));
  const out: ImageRecord[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      out.push(...result.value);
      return;
    }
    if (options.onSourceError === undefined) throw result.reason;
    options.onSourceError({ source: sources[i]!.name, error: result.reason });
  });
  const rank = (name: ImageSourceName): number => SOURCE_ORDER.indexOf(name);
  return out.sort((a, b) => a.reference.localeCompare(b.reference) || rank(a.source) - rank(b.source));
}

export interface ResolveImageOptions {
  /** Default `defaultSources()`. */
  sources?: readonly ImageSource[];
  /** Ask this source first; the others follow in their given order. */
  preferSource?: ImageSourceName;
}

/**
 * The image for `reference` from the first source that has it (`preferSource`
 * first). Throws `ImageNotFoundError` naming the sources searched, or
 * `InvalidArgumentError` (field `reference`) when no source accepts the
 * reference's form (a source-specific name such as `host` is only accepted by
 * its source, so a reference is rejected only when every source rejects it).
 */
export async function resolveImage(
  reference: string,
  options: ResolveImageOptions = {},
): Promise<ImageRecord> {
  if (typeof reference !== 'string' || reference.length === 0) {
    throw new InvalidArgumentError('reference', 'an image reference', reference);
  }
  const prefer = options.preferSource;
  if (prefer !== undefined && !SOURCE_ORDER.includes(prefer)) {
    throw new InvalidArgumentError('preferSource', SOURCE_ORDER.map((s) => `'${s}'`).join(', '), prefer);
  }
  const given = options.sources ?? defaultSources();
  const sources =
    prefer === undefined
      ? given
      : [...given.filter((s) => s.name === prefer), ...given.filter((s) => s.name !== prefer)];
  let rejected: InvalidArgumentError | undefined;
  let rejections = 0;
  for (const source of sources) {
    let record: ImageRecord | undefined;
    try {
      record = await source.resolve(reference);
    } catch (err) {
      if (err instanceof InvalidArgumentError && err.field === 'reference') {
        rejected ??= err;
        rejections++;
        continue;
      }
      throw err;
    }
    if (record !== undefined) return record;
  }
  if (rejected !== undefined && rejections === sources.length) throw rejected;
  throw new ImageNotFoundError(
    reference,
    sources.map((s) => s.name),
  );
}
