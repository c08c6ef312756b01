/**
 * hcs-sandbox: isolated Windows sandboxes from code, through the Host Compute
 * Service. This entry is the Sandbox API: `Sandbox`, its options and results,
 * its errors, and the host helpers (garbage collection, doctor, .wsb files).
 * Each name is listed on purpose (test/unit/package-exports.test.ts pins them).
 *
 * The layers underneath have their own entries: `hcs-sandbox/hcs` (compute
 * systems, processes, HRESULTs), `hcs-sandbox/storage` (layers, scratch,
 * images), `hcs-sandbox/network`, `hcs-sandbox/jobs` (job objects) and
 * `hcs-sandbox/schema` (HCS documents and their builders).
 */

export {
  type CallOptions,
  HandleClosedError,
  HcsError,
  type SystemExitStatus,
} from './hcs/index.js';
export {
  ConflictError,
  type ErrorKind,
  HcsSandboxError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  UnavailableError,
} from './internal/errors.js';
export { formatBytes } from './internal/format-bytes.js';
export { FunctionUnavailableError, HcsUnavailableError } from './native/index.js';
export {
  type DnsOptions,
  type NetworkMode,
  NetworkNotFoundError,
  PortConflictError,
  type PortMapping,
} from './network/index.js';
export {
  defaultReportPath,
  type ProbeItemReport,
  type ProbeOptions,
  type ProbeOutcome,
  type ProbeReport,
  probeItems,
  probeSummary,
  runProbe,
  writeProbeReport,
} from './probe/index.js';
export {
  AgentConnectionClosedError,
  AgentNotReadyError,
  AgentProtocolError,
  AgentRequestError,
  CommandExitError,
  CommandHandle,
  type CommandInput,
  type CommandOptions,
  type CommandResult,
  CommitUnavailableError,
  type CreateCallOptions,
  collectGarbage,
  type DoctorCheck,
  type GcAction,
  type GcOptions,
  GuestAgentRequiredError,
  LimitUpdateUnsupportedError,
  type ListFilter,
  type MappedFolder,
  NotOwnedError,
  type OutputEncoding,
  type OutputOf,
  parseWsb,
  type RunOptions,
  readWsbFile,
  removeVmImage,
  runDoctor,
  SANDBOX_ISOLATIONS,
  Sandbox,
  SandboxBusyError,
  type SandboxCommandsApi,
  SandboxExistsError,
  type SandboxFileEntry,
  SandboxFiles,
  type SandboxFilesApi,
  SandboxFilesUnavailableError,
  type SandboxHost,
  type SandboxInfo,
  type SandboxIsolation,
  type SandboxLike,
  SandboxNotFoundError,
  SandboxNotRunningError,
  SandboxNotVmError,
  type SandboxOptions,
  SandboxPathLinkError,
  SandboxPathNotFoundError,
  SandboxPathNotRemovableError,
  type SandboxProcess,
  SandboxRunningError,
  type SandboxStats,
  type SandboxStatus,
  StateCorruptError,
  TimeoutError,
  type ViewEndReason,
  type ViewEvent,
  ViewerLaunchError,
  type ViewOptions,
  ViewPortInUseError,
  type VmImageRemoveOptions,
  type VmView,
  viewVirtualMachine,
  type WsbConfig,
  WsbError,
  wsbToSandboxOptions,
} from './sandbox/index.js';
export { defaultStateRoot } from './sandbox/state-store.js';
export {
  ImageCompatibilityError,
  ImageNotFoundError,
  type ImageRecord,
  InsufficientSpaceError,
  type Progress,
  RegistryError,
  VmImageInUseError,
} from './storage/index.js';
