import type { Brand, HResult, Win32Handle } from '../shared/types.js';

/**
 * The native surface of hcs-sandbox, in HCS terms. `computecore.ts` implements it
 * with koffi over the real DLL; tests implement it in memory. Nothing here
 * mentions koffi, so no koffi type leaks above this folder.
 */

/** `HCS_SYSTEM`: a handle to a compute system. Pointer-sized; never 0 when valid. */
export type SystemHandle = Brand<bigint, 'HCS_SYSTEM'>;
/** `HCS_PROCESS`: a handle to a process inside a compute system. */
export type ProcessHandle = Brand<bigint, 'HCS_PROCESS'>;
/** `HCS_OPERATION`: one asynchronous HCS request. */
export type OperationHandle = Brand<bigint, 'HCS_OPERATION'>;
/** `HCS_PROCESS_INFORMATION`. A stream that was not requested is `null`. */
export interface ProcessInformation {
  processId: number;
  stdInput: Win32Handle | null;
  stdOutput: Win32Handle | null;
  stdError: Win32Handle | null;
}

/** A copy of an `HCS_EVENT`, taken while the callback ran (the native one dies with it). */
export interface HcsEventRecord {
  /** `HCS_EVENT_TYPE`, as an unsigned 32-bit value. */
  type: number;
  eventData: string | null;
  operation: OperationHandle | null;
}

/** A result document plus the HRESULT that came with it. */
export interface NativeResult {
  hr: HResult;
  document: string | null;
}

export interface HandleResult<H> {
  hr: HResult;
  handle: H | null;
}

/**
 * Where native callbacks land. Both are called on the JavaScript main thread
 * while the HCS thread that fired them waits, so they must be short and must
 * not throw (the native layer also guards them).
 */
export interface CallbackSink {
  operationCompleted(key: number, operation: OperationHandle): void;
  eventReceived(key: number, event: HcsEventRecord): void;
}

/** `HCS_EVENT_OPTIONS` flags. */
export const HcsEventOptions = {
  None: 0,
  EnableOperationCallbacks: 1,
  EnableVmLifecycle: 2,
  EnableLiveMigrationEvents: 4,
} as const;

/** `HCS_EVENT_TYPE` values (unsigned). */
export const HcsEventType = {
  Invalid: 0x00000000,
  SystemExited: 0x00000001,
  SystemCrashInitiated: 0x00000002,
  SystemCrashReport: 0x00000003,
  SystemRdpEnhancedModeStateChanged: 0x00000004,
  SystemSiloJobCreated: 0x00000005,
  SystemGuestConnectionClosed: 0x00000006,
  ProcessExited: 0x00010000,
  OperationCallback: 0x01000000,
  ServiceDisconnect: 0x02000000,
  GroupVmLifecycle: 0x80000002,
  GroupLiveMigration: 0x80000003,
  GroupOperationInfo: 0xc0000001,
} as const;

/** `HCS_OPERATION_TYPE` values. */
export const HcsOperationType = {
  None: -1,
  Enumerate: 0,
  Create: 1,
  Start: 2,
  Shutdown: 3,
  Pause: 4,
  Resume: 5,
  Save: 6,
  Terminate: 7,
  Modify: 8,
  GetProperties: 9,
  CreateProcess: 10,
  SignalProcess: 11,
  GetProcessInfo: 12,
  GetProcessProperties: 13,
  ModifyProcess: 14,
  Crash: 15,
} as const;

/** `GENERIC_ALL`, the access hcs-sandbox asks for when opening systems and processes. */
export const GENERIC_ALL = 0x10000000;
/** `INFINITE` for the `HcsWaitFor*` timeouts. */
export const INFINITE = 0xffffffff;

/** The lifecycle calls that share one signature: `(system, operation, options)`. */
export type SystemOperationName =
  | 'HcsStartComputeSystem'
  | 'HcsShutDownComputeSystem'
  | 'HcsTerminateComputeSystem'
  | 'HcsCrashComputeSystem'
  | 'HcsPauseComputeSystem'
  | 'HcsResumeComputeSystem'
  | 'HcsSaveComputeSystem'
  | 'HcsGetComputeSystemProperties';

/** The process calls that share one signature: `(process, operation, options)`. */
export type ProcessOperationName =
  | 'HcsTerminateProcess'
  | 'HcsSignalProcess'
  | 'HcsGetProcessProperties'
  | 'HcsModifyProcess';

/**
 * Every function of computecore.dll, one method each (the `HcsXxx` name says
 * which). Methods that can wait on HCS (Close, WaitFor, service-level RPCs)
 * return Promises and run off the main thread; the rest return at once and
 * report completion through the {@link CallbackSink}.
 *
 * Operations created here always carry the shared completion callback and an
 * integer key, never a live pointer (hcsshim's notification.go habit).
 */
export interface ComputeCoreApi {
  /** Which optional functions this DLL exports (older builds lack some). */
  hasFunction(name: string): boolean;
  setCallbackSink(sink: CallbackSink): void;

  // Operations
  createOperation(key: number): OperationHandle | null;
  closeOperation(operation: OperationHandle): Promise<void>;
  getOperationContext(operation: OperationHandle): number;
  setOperationContext(operation: OperationHandle, key: number): HResult;
  setOperationCallback(operation: OperationHandle, key: number): HResult;
  getComputeSystemFromOperation(operation: OperationHandle): SystemHandle | null;
  getProcessFromOperation(operation: OperationHandle): ProcessHandle | null;
  getOperationType(operation: OperationHandle): number;
  getOperationId(operation: OperationHandle): bigint;
  getOperationResult(operation: OperationHandle): NativeResult;
  getOperationResultAndProcessInfo(
    operation: OperationHandle,
  ): NativeResult & { processInfo: ProcessInformation };
  waitForOperationResult(operation: OperationHandle, timeoutMs: number): Promise<NativeResult>;
  waitForOperationResultAndProcessInfo(
    operation: OperationHandle,
    timeoutMs: number,
  ): Promise<NativeResult & { processInfo: ProcessInformation }>;
  cancelOperation(operation: OperationHandle): HResult;

  // Compute systems
  enumerateComputeSystems(query: string | null, operation: OperationHandle): HResult;
  enumerateComputeSystemsInNamespace(
    idNamespace: string,
    query: string | null,
    operation: OperationHandle,
  ): HResult;
  createComputeSystem(
    id: string,
    configuration: string,
    operation: OperationHandle,
  ): HandleResult<SystemHandle>;
  createComputeSystemInNamespace(
    idNamespace: string,
    id: string,
    configuration: string,
    operation: OperationHandle,
    eventCallback: { options: number; key: number } | null,
  ): HandleResult<SystemHandle>;
  openComputeSystem(id: string, requestedAccess: number): Promise<HandleResult<SystemHandle>>;
  openComputeSystemInNamespace(
    idNamespace: string,
    id: string,
    requestedAccess: number,
  ): Promise<HandleResult<SystemHandle>>;
  closeComputeSystem(system: SystemHandle): Promise<void>;
  systemOperation(
    name: SystemOperationName,
    system: SystemHandle,
    operation: OperationHandle,
    options: string | null,
  ): HResult;
  modifyComputeSystem(
    system: SystemHandle,
    operation: OperationHandle,
    configuration: string,
    identity: Win32Handle | null,
  ): HResult;
  waitForComputeSystemExit(system: SystemHandle, timeoutMs: number): Promise<NativeResult>;
  setComputeSystemCallback(system: SystemHandle, options: number, key: number | null): HResult;

  // Processes
  createProcess(
    system: SystemHandle,
    processParameters: string,
    operation: OperationHandle,
  ): HandleResult<ProcessHandle>;
  openProcess(
    system: SystemHandle,
    processId: number,
    requestedAccess: number,
  ): Promise<HandleResult<ProcessHandle>>;
  closeProcess(process: ProcessHandle): Promise<void>;
  processOperation(
    name: ProcessOperationName,
    process: ProcessHandle,
    operation: OperationHandle,
    options: string | null,
  ): HResult;
  getProcessInfo(process: ProcessHandle, operation: OperationHandle): HResult;
  setProcessCallback(process: ProcessHandle, options: number, key: number | null): HResult;
  waitForProcessExit(process: ProcessHandle, timeoutMs: number): Promise<NativeResult>;

  // Service level and helpers (synchronous RPCs, run off the main thread)
  getServiceProperties(propertyQuery: string | null): Promise<NativeResult>;
  modifyServiceSettings(settings: string): Promise<NativeResult>;
  submitWerReport(settings: string): Promise<HResult>;
  createEmptyGuestStateFile(path: string): Promise<HResult>;
  createEmptyRuntimeStateFile(path: string): Promise<HResult>;
  grantVmAccess(vmId: string, filePath: string): Promise<HResult>;
  revokeVmAccess(vmId: string, filePath: string): Promise<HResult>;
  grantVmGroupAccess(filePath: string): Promise<HResult>;
  revokeVmGroupAccess(filePath: string): Promise<HResult>;
  getProcessorCompatibilityFromSavedState(runtimeFileName: string): Promise<NativeResult>;
}
