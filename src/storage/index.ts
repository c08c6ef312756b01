/**
 * Container storage: layers (import, export, destroy, ids) and writable scratch
 * layers (create, mount, unmount, destroy) over computestorage.dll and
 * virtdisk.dll. See docs/storage.md.
 */

export { checkStorageLibraries, type LibraryCheck } from './diagnostics.js';
export {
  ElevationRequiredError,
  InsufficientSpaceError,
  LayerNotRemovedError,
  RollbackError,
  ScratchLayerStateError,
  StoreRootNotSecureError,
  type UndoFailure,
} from './errors.js';
export * from './images/index.js';
export {
  buildLayerData,
  destroyLayer,
  type ExportLayerOptions,
  exportLayer,
  importLayer,
  layerIdFromPath,
  layerRef,
  setupBaseLayer,
} from './layers.js';
export { processTokenStatus } from './privileges.js';
export {
  type CreateScratchLayerOptions,
  createScratchLayer,
  destroyScratchLayer,
  mountedScratchLayer,
  mountedScratchLayers,
  mountScratchLayer,
  SCRATCH_VHDX,
  type ScratchCallOptions,
  type ScratchLayer,
  scratchSize,
  unmountScratchLayer,
} from './scratch.js';
export { type FreeSpace, freeSpace } from './space.js';
export {
  type SecureStoreRootOptions,
  type SecureStoreRootResult,
  STORE_ROOT_SDDL,
  secureStoreRoot,
} from './store-root-security.js';
export type {
  ImageRecord,
  ImageSource,
  ImageSourceName,
  LayerImporter,
  LayerRef,
  Progress,
} from './types.js';
export { UndoStack, withUndo } from './undo.js';
export { createDifferencingDisk, deleteVmFile } from './vm-disks.js';
export * from './vm-images/index.js';
