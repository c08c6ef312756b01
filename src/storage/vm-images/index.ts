/** Windows VM images: bootable base VHDXs built once from Windows media (docs/vm.md). */
export { VmImageCorruptError, VmImageExistsError, VmImageNotFoundError } from './errors.js';
export {
  checkVmImageName,
  type VmImageListing,
  type VmImagePaths,
  VmImageStore,
  type VmImageStoreOptions,
} from './store.js';
export type { VmImageRecord, VmImageSource } from './types.js';
