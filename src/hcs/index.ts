export { FunctionUnavailableError, HcsUnavailableError } from '../native/index.js';
export {
  ComputeSystem,
  type ComputeSystemEvent,
  type HcsDocument,
  type SystemExitStatus,
} from './compute-system.js';
export { type HcsDiagnostics, hcsDiagnostics } from './diagnostics.js';
export { HandleClosedError, HcsError, type HcsErrorEvent, type HcsResultError } from './errors.js';
export { HR, HRESULTS, type HResultInfo, hresultHex, hresultMeaning, hresultName } from './hresults.js';
export { eventLoopHolders } from './keepalive.js';
export { type CallOptions, type OperationOutcome, type OperationRequest, runOperation } from './operation.js';
export { HcsProcess, type ProcessExit, type ProcessSignal, type ProcessStatus } from './process.js';
export {
  type ComputeSystemSummary,
  enumerateComputeSystems,
  isFunctionAvailable,
  type SchemaVersion,
  type ServiceProperties,
  type SystemQuery,
  serviceProperties,
} from './service.js';
export { defaultTimeout } from './timeouts.js';
export {
  createEmptyGuestStateFile,
  createEmptyRuntimeStateFile,
  grantVmAccess,
  processUserSid,
  revokeVmAccess,
} from './vm-access.js';
