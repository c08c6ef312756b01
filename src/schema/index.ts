/**
 * Typed HCS documents (generated from Microsoft's published schema), extension
 * fields, strict validation and the pure builders that fill the documents.
 */

export {
  DEFAULT_OWNER,
  DEFAULT_SCHEMA_VERSION,
  type HostFacts,
  type SystemDocumentOptions,
  VSMB_GUEST_PREFIX,
} from './builders/common.js';
export * from './builders/container.js';
export {
  buildHypervContainer,
  type HypervContainerDocuments,
  type HypervContainerOptions,
  type UtilityVmOptions,
} from './builders/hyperv-container.js';
export * from './builders/modify.js';
export * from './builders/options.js';
export {
  buildProcessContainer,
  type ContainerNetworkingInput,
  type ContainerProcessorInput,
  type LayerInput,
  type MappedDirectoryInput,
  type MappedPipeInput,
  MIN_CONTAINER_MEMORY_MB,
  type ProcessContainerOptions,
} from './builders/process-container.js';
export * from './builders/process-parameters.js';
export * from './builders/queries.js';
export * from './builders/sandbox-vm.js';
export * from './builders/sandbox-vm-disk.js';
export * from './builders/uvm-network.js';
export {
  type HvSocketServiceInput,
  MIN_UVM_MEMORY_MB,
  MIN_VM_MEMORY_MB,
  type NetworkAdapterInput,
  UVM_SCSI_CONTROLLER,
  type VsmbShareInput,
} from './builders/vm-common.js';
export * from './extensions.js';
export type * as Hcs from './generated/hcs.js';
export { HCS_SCHEMA_SOURCE } from './generated/hcs.js';
export * from './validate.js';
export * from './version.js';
export * from './video-pipe.js';
