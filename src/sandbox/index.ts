export {
  SandboxPathLinkError,
  SandboxPathNotFoundError,
  SandboxPathNotRemovableError,
} from '../storage/beneath/index.js';
export { AgentConnectionClosedError, AgentProtocolError, AgentRequestError } from './agent/index.js';
export { CommandExitError, type CommandResult, TimeoutError } from './command-errors.js';
export type { OutputEncoding, OutputOf } from './command-output.js';
export { CommandHandle, type CommandInput, type CommandOptions, type RunOptions } from './commands.js';
export { CommitUnavailableError } from './commit.js';
export { type DoctorCheck, runDoctor } from './doctor.js';
export {
  AgentNotReadyError,
  GuestAgentRequiredError,
  LimitUpdateUnsupportedError,
  NotOwnedError,
  SandboxBusyError,
  SandboxExistsError,
  SandboxNotFoundError,
  StateCorruptError,
  WsbError,
} from './errors.js';
export { collectGarbage, type GcAction, type GcOptions } from './gc.js';
export type { Isolation as SandboxIsolation, MappedFolder, SandboxOptions } from './options.js';
export { SANDBOX_ISOLATIONS } from './record.js';
export {
  type CreateCallOptions,
  type ListFilter,
  Sandbox,
  type SandboxInfo,
  SYSTEM_ID_PREFIX,
} from './sandbox.js';
export { SandboxFiles, SandboxFilesUnavailableError } from './sandbox-files.js';
export type {
  SandboxCommandsApi,
  SandboxFileEntry,
  SandboxFilesApi,
  SandboxHost,
  SandboxLike,
} from './sandbox-host.js';
export { SandboxNotRunningError, SandboxRunningError } from './state-errors.js';
export { type SandboxRecord, type SandboxStatus, StateStore } from './state-store.js';
export { type HcsStatistics, type SandboxProcess, type SandboxStats, toSandboxStats } from './stats.js';
export {
  SandboxNotVmError,
  type ViewEndReason,
  type ViewEvent,
  ViewerLaunchError,
  type ViewOptions,
  ViewPortInUseError,
  type VmView,
  viewVirtualMachine,
} from './view/index.js';
export { removeVmImage, type VmImageRemoveOptions, vmImageUsers } from './vm-image-remove.js';
export type { WsbConfig } from './wsb/config.js';
export { parseWsb, readWsbFile } from './wsb/reader.js';
export { wsbToSandboxOptions } from './wsb/to-options.js';
