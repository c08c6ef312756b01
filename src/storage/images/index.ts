/**
 * Images: references, the sources images come from (hcs-sandbox's own store,
 * Docker's and containerd's stores read from disk, the Windows Sandbox base
 * image), and the Windows version compatibility check. See docs/storage.md,
 * "Images".
 */
export { BoltBucket, BoltDB, type BoltEntry, BoltFormatError } from './bbolt.js';
export { defaultBlobCacheDir, PARTIAL_SUFFIX } from './blob-cache.js';
export { chainId, chainIds, digestHex } from './chain-id.js';
export {
  BUILDS,
  COMPAT_LTSC_BUILDS,
  type CompatibilityInput,
  type CompatibilityResult,
  checkCompatibility,
  isCompatible,
  MIN_CONTAINER_BUILD,
  oldestProcessIsolatedBuild,
  supportedIsolations,
} from './compat.js';
export {
  ContainerdImageSource,
  type ContainerdImageSourceOptions,
  defaultContainerdRoot,
} from './containerd-store.js';
export { DigestMismatchError } from './digest.js';
export { DockerImageSource, type DockerImageSourceOptions, dockerDataRoot } from './docker-store.js';
export {
  type ImageCompatibilityDetails,
  ImageCompatibilityError,
  ImageNotFoundError,
  ImageStoreError,
  type ImageWarning,
  type Isolation,
  PathOutsideStoreError,
} from './errors.js';
export {
  defaultBaseImagesDir,
  findHostBaseImage,
  HOST_IMAGE_ALIASES,
  HOST_IMAGE_REFERENCE,
  type HostBaseImage,
  type HostBaseImageOptions,
  HostBaseImageSource,
  type HostBaseImageState,
} from './host-base-image.js';
export { defaultLayerId, LAYER_ID_NAMESPACE, layerIdFromFolderName } from './layer-id.js';
export { type LoadOptions, loadImage } from './load.js';
export {
  OwnImageSource,
  type OwnStoreOptions,
  ownStoreRoot,
  type RemoveImageOptions,
  type RemoveImageResult,
  tempDirOwnerPid,
  writeAtomic,
} from './own-store.js';
export { PeFormatError, type PeVersionInfo, parsePeVersion, readPeVersion } from './pe-version.js';
export { type PullOptions, type PullResult, pullImage } from './pull.js';
export type { ImageStoreTarget, ImportOptions } from './pull-import.js';
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  type ImageReference,
  isValidReference,
  normalizeReference,
  parseReference,
  sameReference,
} from './reference.js';
export {
  ImageFormatError,
  NotAnImageError,
  NotAWindowsLayerError,
  type OfferedPlatform,
  PlatformMismatchError,
  RegistryError,
  UnsafeLayerPathError,
  UnsupportedLayerError,
} from './registry-errors.js';
export {
  type DefaultSourcesOptions,
  defaultSources,
  type ListImagesOptions,
  listImages,
  type ResolveImageOptions,
  resolveImage,
  SOURCE_ORDER,
  type SourceFailure,
} from './sources.js';
export {
  HIVE_DELTAS,
  TransportLayerWriter,
  type TransportMeta,
  type TransportSummary,
} from './transport-writer.js';
