/** Windows VM images: bootable base VHDXs built once from Windows media (docs/vm.md). */

export { type RefreshVmImageAgentOptions, restageVmImageAgent } from './agent-refresh.js';
export {
  type BuildVmImageOptions,
  buildVmImage,
  credentialsPathOf,
  DEFAULT_VM_IMAGE_SIZE_GB,
  readVmImageCredentials,
  type VmImageCredentials,
} from './build.js';
export {
  AgentBinariesMissingError,
  DiskGuardError,
  VmImageBuildError,
  VmImageInUseError,
  WimFormatError,
} from './build-errors.js';
export {
  type AttachedVhdx,
  type BuildHost,
  buildHost,
  type CommandOutcome,
  type MountedIso,
  setBuildHost,
} from './build-host.js';
export {
  AGENT_DIR,
  AGENT_INSTALL_ARGS,
  type BuildAction,
  type BuildCommand,
  type BuildPlanInputs,
  type BuildStep,
  buildPlan,
  type DiskTarget,
  type StagingEntry,
} from './build-plan.js';
export { assertOurDisk, type DiskProbe } from './disk-guard.js';
export { VmImageCorruptError, VmImageExistsError, VmImageNotFoundError } from './errors.js';
export {
  checkVmImageName,
  type VmImageListing,
  type VmImagePaths,
  VmImageStore,
  type VmImageStoreOptions,
} from './store.js';
export type { VmImageAgent, VmImageRecord, VmImageSource } from './types.js';
export { renderUnattend, type UnattendOptions } from './unattend.js';
export { readWimInfo, selectWimImage, type WimImage, type WimInfo } from './wim-info.js';
