import { HcsSandboxError, NotFoundError, UnavailableError } from '../../internal/errors.js';
import type { ContainerIsolation } from '../../internal/isolation.js';

/** The isolation modes a Windows container can run under. */
export type Isolation = ContainerIsolation;

export interface ImageCompatibilityDetails {
  imageBuild: number;
  hostBuild: number;
  isolation: Isolation;
  /** The isolation that would run this image on this host, or `undefined` when none would. */
  wouldWork: Isolation | undefined;
  /** Why, in words (which rule refused it). */
  reason: string;
}

/**
 * The image's Windows build cannot run on this host under the requested
 * isolation. Raised before HCS is asked, instead of its
 * `0xC0370101` ("The operating system of the container does not match the
 * operating system of the host").
 *
 * @see https://learn.microsoft.com/virtualization/windowscontainers/deploy-containers/version-compatibility
 */
export class ImageCompatibilityError extends UnavailableError {
  readonly imageBuild: number;
  readonly hostBuild: number;
  readonly isolation: Isolation;
  readonly wouldWork: Isolation | undefined;
  readonly reason: string;

  constructor(details: ImageCompatibilityDetails) {
    const hint =
      details.wouldWork === undefined
        ? 'no isolation mode can run it on this host: use an image of build ' +
          `${details.hostBuild} or older, or a newer host`
        : `it would run with isolation '${details.wouldWork}'`;
    super(
      'IMAGE_INCOMPATIBLE',
      `Image build ${details.imageBuild} cannot run on host build ${details.hostBuild} with ` +
        `isolation '${details.isolation}': ${details.reason}; ${hint}.`,
    );
    this.imageBuild = details.imageBuild;
    this.hostBuild = details.hostBuild;
    this.isolation = details.isolation;
    this.wouldWork = details.wouldWork;
    this.reason = details.reason;
  }
}

/**
 * An image store on disk is not in the shape its owner writes (a missing or
 * unparsable file, a layer chain that disagrees with itself). `path` names the
 * file or folder at fault.
 */
export class ImageStoreError extends HcsSandboxError {
  readonly source: string;
  readonly path: string;

  constructor(source: string, path: string, problem: string, options?: { cause?: unknown }) {
    super('IMAGE_STORE_CORRUPT', `${source} image store: ${problem} (${path}).`, options);
    this.source = source;
    this.path = path;
  }
}

/** A path that should lie inside hcs-sandbox's own store does not. Nothing was touched. */
export class PathOutsideStoreError extends HcsSandboxError {
  readonly path: string;
  readonly storeRoot: string;

  constructor(path: string, storeRoot: string, what: string) {
    super('PATH_OUTSIDE_STORE', `${what} ${JSON.stringify(path)} is outside the image store ${storeRoot}.`);
    this.path = path;
    this.storeRoot = storeRoot;
  }
}

/** No source has an image for this reference. */
export class ImageNotFoundError extends NotFoundError {
  readonly reference: string;
  readonly searched: readonly string[];

  constructor(reference: string, searched: readonly string[]) {
    super(
      'IMAGE_NOT_FOUND',
      `No image ${JSON.stringify(reference)} in ${searched.length === 0 ? 'any source' : searched.join(', ')}.`,
    );
    this.reference = reference;
    this.searched = searched;
  }
}

/** A warning a reader emits instead of failing a whole listing for one bad entry. */
export interface ImageWarning {
  source: string;
  /** The reference or id concerned, when known. */
  subject?: string;
  message: string;
  cause?: unknown;
}
