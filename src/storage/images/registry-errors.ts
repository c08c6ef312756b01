/**
 * Typed errors of image pulling, loading and layer extraction. Every one derives
 * from `HcsSandboxError` and carries a stable `code`.
 */
import { HcsSandboxError, UnavailableError } from '../../internal/errors.js';

/** A registry answered with an unexpected HTTP status (or an error body). */
export class RegistryError extends HcsSandboxError {
  readonly status: number;
  readonly url: string;
  /** The registry's own error codes (`MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `DENIED`...) when it sent them. */
  readonly registryCodes: string[];

  constructor(message: string, status: number, url: string, registryCodes: string[] = [], cause?: unknown) {
    super(status === 401 || status === 403 ? 'REGISTRY_UNAUTHORIZED' : 'REGISTRY_ERROR', message, { cause });
    this.status = status;
    this.url = url;
    this.registryCodes = registryCodes;
  }
}

/** One platform an index offers, as reported in `PlatformMismatchError`. */
export interface OfferedPlatform {
  os: string;
  architecture: string;
  osVersion?: string;
  digest: string;
}

/**
 * No manifest of the image can run on this host: no `windows/amd64` entry, or
 * none with the host's build (process isolation needs the same build; pass
 * `allowOlderBuild` to accept an older one for Hyper-V isolation).
 */
export class PlatformMismatchError extends UnavailableError {
  readonly hostBuild: number;
  readonly offered: OfferedPlatform[];

  constructor(hostBuild: number, offered: OfferedPlatform[], allowOlderBuild: boolean) {
    const list = offered.length
      ? offered.map((p) => `${p.os}/${p.architecture}${p.osVersion ? ` ${p.osVersion}` : ''}`).join(', ')
      : 'nothing';
    super(
      'PLATFORM_MISMATCH',
      `No image manifest for windows/amd64 build ${hostBuild}${allowOlderBuild ? ' or older' : ''}; the image offers: ${list}.` +
        (allowOlderBuild ? '' : ' Hyper-V isolation can run an older build: pass allowOlderBuild.'),
    );
    this.hostBuild = hostBuild;
    this.offered = offered;
  }
}

/** A manifest, index or config that is not what the image format says it must be. */
export class ImageFormatError extends HcsSandboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IMAGE_FORMAT', message, options);
  }
}

/** A layer uses a format we cannot read (zstd, unknown media type). */
export class UnsupportedLayerError extends HcsSandboxError {
  readonly mediaType: string;
  constructor(mediaType: string, detail: string) {
    super('UNSUPPORTED_LAYER', `Unsupported layer media type ${mediaType}: ${detail}.`);
    this.mediaType = mediaType;
  }
}

/** A layer tar that is not a Windows container layer (no `Files/`: a Linux layer, or not a layer at all). */
export class NotAWindowsLayerError extends HcsSandboxError {
  readonly layer: string;
  constructor(layer: string, detail: string, options?: { cause?: unknown }) {
    super('NOT_A_WINDOWS_LAYER', `${layer} is not a Windows container layer: ${detail}.`, options);
    this.layer = layer;
  }
}

/** A tar entry whose name escapes the extraction folder (`..`, an absolute path, a drive letter). */
export class UnsafeLayerPathError extends HcsSandboxError {
  readonly entry: string;
  constructor(entry: string, detail: string) {
    super('UNSAFE_LAYER_PATH', `Refusing tar entry ${JSON.stringify(entry)}: ${detail}.`);
    this.entry = entry;
  }
}

/** A file given to `loadImage` that is neither a `docker save` tar nor an OCI layout. */
export class NotAnImageError extends HcsSandboxError {
  readonly path: string;
  readonly missing: string[];
  constructor(path: string, missing: string[], detail?: string) {
    super(
      'NOT_AN_IMAGE',
      `${path} is not an image archive: missing ${missing.join(', ')}${detail ? ` (${detail})` : ''}. ` +
        'Expected a `docker save` tar (manifest.json) or an OCI layout (oci-layout, index.json, blobs/sha256/).',
    );
    this.path = path;
    this.missing = missing;
  }
}
