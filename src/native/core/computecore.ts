import type { LibraryHandle } from 'koffi';
import { FunctionUnavailableError } from '../shared/errors.js';
import { takeLocalString } from '../shared/kernel32.js';
import type { KoffiFunction, Pointer } from '../shared/koffi-module.js';
import { declareTypesOf } from '../shared/koffi-types.js';
import type { Prototype } from '../shared/lazy-library.js';
import { loadSystemLibrary } from '../shared/library.js';
import type { HResult, Win32Handle } from '../shared/types.js';
import { ComputeCoreCallbacks } from './callbacks.js';
import { nonNull, pointerToKey, toProcessInformation } from './marshal.js';
import { COMPUTECORE_PROTOTYPES, type ComputeCoreFunctionName } from './prototypes.js';
import type {
  CallbackSink,
  ComputeCoreApi,
  HandleResult,
  NativeResult,
  OperationHandle,
  ProcessHandle,
  ProcessInformation,
  SystemHandle,
} from './types.js';

const LIBRARY = 'computecore.dll';

/** HcsCreateOptions_1, the version tag of HCS_CREATE_OPTIONS_1. */
const HCS_CREATE_OPTIONS_1_VERSION = 0x00010000;

/**
 * computecore.dll through koffi. Loaded on first use, never at import. Each
 * function is bound on first call so that a missing export (an older build)
 * fails only the feature that needs it.
 */
export class KoffiComputeCore implements ComputeCoreApi {
  readonly #lib: LibraryHandle;
  readonly #functions = new Map<ComputeCoreFunctionName, KoffiFunction | null>();
  readonly #callbacks = new ComputeCoreCallbacks();

  constructor() {
    // The DLL first: on a host without HCS (or not Windows) that fails before koffi loads.
    this.#lib = loadSystemLibrary(LIBRARY);
  }

  hasFunction(name: string): boolean {
    return name in COMPUTECORE_PROTOTYPES && this.#bind(name as ComputeCoreFunctionName) !== null;
  }

  setCallbackSink(sink: CallbackSink): void {
    this.#callbacks.setSink(sink);
  }

  // Operations --------------------------------------------------------------

  createOperation(key: number): OperationHandle | null {
    return this.#fn('HcsCreateOperation')(
      BigInt(key),
      this.#callbacks.completion(),
    ) as OperationHandle | null;
  }

  closeOperation(operation: OperationHandle): Promise<void> {
    // HcsCloseOperation may wait for a running completion callback, which needs
    // the main thread: never call it synchronously here.
    return this.#async<void>('HcsCloseOperation', [operation]);
  }

  getOperationContext(operation: OperationHandle): number {
    return pointerToKey(this.#fn('HcsGetOperationContext')(operation) as Pointer);
  }

  setOperationContext(operation: OperationHandle, key: number): HResult {
    return this.#fn('HcsSetOperationContext')(operation, BigInt(key)) as HResult;
  }

  setOperationCallback(operation: OperationHandle, key: number): HResult {
    return this.#fn('HcsSetOperationCallback')(
      operation,
      BigInt(key),
      this.#callbacks.completion(),
    ) as HResult;
  }

  getComputeSystemFromOperation(operation: OperationHandle): SystemHandle | null {
    return nonNull(this.#fn('HcsGetComputeSystemFromOperation')(operation) as Pointer) as SystemHandle | null;
  }

  getProcessFromOperation(operation: OperationHandle): ProcessHandle | null {
    return nonNull(this.#fn('HcsGetProcessFromOperation')(operation) as Pointer) as ProcessHandle | null;
  }

  getOperationType(operation: OperationHandle): number {
    return this.#fn('HcsGetOperationType')(operation) as number;
  }

  getOperationId(operation: OperationHandle): bigint {
    return BigInt.asUintN(64, BigInt(this.#fn('HcsGetOperationId')(operation) as number | bigint));
  }

  getOperationResult(operation: OperationHandle): NativeResult {
    const out: [Pointer] = [null];
    const hr = this.#fn('HcsGetOperationResult')(operation, out) as HResult;
    return { hr, document: takeLocalString(out[0]) };
  }

  getOperationResultAndProcessInfo(
    operation: OperationHandle,
  ): NativeResult & { processInfo: ProcessInformation } {
    const info: Record<string, unknown> = {};
    const out: [Pointer] = [null];
    const hr = this.#fn('HcsGetOperationResultAndProcessInfo')(operation, info, out) as HResult;
    return { hr, document: takeLocalString(out[0]), processInfo: toProcessInformation(info) };
  }

  async waitForOperationResult(operation: OperationHandle, timeoutMs: number): Promise<NativeResult> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsWaitForOperationResult', [operation, timeoutMs >>> 0, out]);
    return { hr, document: takeLocalString(out[0]) };
  }

  async waitForOperationResultAndProcessInfo(
    operation: OperationHandle,
    timeoutMs: number,
  ): Promise<NativeResult & { processInfo: ProcessInformation }> {
    const info: Record<string, unknown> = {};
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsWaitForOperationResultAndProcessInfo', [
      operation,
      timeoutMs >>> 0,
      info,
      out,
    ]);
    return { hr, document: takeLocalString(out[0]), processInfo: toProcessInformation(info) };
  }

  cancelOperation(operation: OperationHandle): HResult {
    return this.#fn('HcsCancelOperation')(operation) as HResult;
  }

  // Compute systems -------------------------------------------------------------

  enumerateComputeSystems(query: string | null, operation: OperationHandle): HResult {
    return this.#fn('HcsEnumerateComputeSystems')(query, operation) as HResult;
  }

  enumerateComputeSystemsInNamespace(
    idNamespace: string,
    query: string | null,
    operation: OperationHandle,
  ): HResult {
    return this.#fn('HcsEnumerateComputeSystemsInNamespace')(idNamespace, query, operation) as HResult;
  }

  createComputeSystem(
    id: string,
    configuration: string,
    operation: OperationHandle,
  ): HandleResult<SystemHandle> {
    const out: [Pointer] = [null];
    const hr = this.#fn('HcsCreateComputeSystem')(id, configuration, operation, null, out) as HResult;
    return { hr, handle: nonNull(out[0]) as SystemHandle | null };
  }

  createComputeSystemInNamespace(
    idNamespace: string,
    id: string,
    configuration: string,
    operation: OperationHandle,
    eventCallback: { options: number; key: number } | null,
  ): HandleResult<SystemHandle> {
    const options = {
      Version: HCS_CREATE_OPTIONS_1_VERSION,
      UserToken: null,
      SecurityDescriptor: null,
      CallbackOptions: eventCallback?.options ?? 0,
      CallbackContext: eventCallback ? BigInt(eventCallback.key) : null,
      Callback: eventCallback ? this.#callbacks.event() : null,
    };
    const out: [Pointer] = [null];
    const hr = this.#fn('HcsCreateComputeSystemInNamespace')(
      idNamespace,
      id,
      configuration,
      operation,
      options,
      out,
    ) as HResult;
    return { hr, handle: nonNull(out[0]) as SystemHandle | null };
  }

  async openComputeSystem(id: string, requestedAccess: number): Promise<HandleResult<SystemHandle>> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsOpenComputeSystem', [id, requestedAccess >>> 0, out]);
    return { hr, handle: nonNull(out[0]) as SystemHandle | null };
  }

  async openComputeSystemInNamespace(
    idNamespace: string,
    id: string,
    requestedAccess: number,
  ): Promise<HandleResult<SystemHandle>> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsOpenComputeSystemInNamespace', [
      idNamespace,
      id,
      requestedAccess >>> 0,
      out,
    ]);
    return { hr, handle: nonNull(out[0]) as SystemHandle | null };
  }

  closeComputeSystem(system: SystemHandle): Promise<void> {
    // Unregisters the event callback and waits for running ones: off the main thread.
    return this.#async<void>('HcsCloseComputeSystem', [system]);
  }

  systemOperation(
    name: Parameters<ComputeCoreApi['systemOperation']>[0],
    system: SystemHandle,
    operation: OperationHandle,
    options: string | null,
  ): HResult {
    return this.#fn(name)(system, operation, options) as HResult;
  }

  modifyComputeSystem(
    system: SystemHandle,
    operation: OperationHandle,
    configuration: string,
    identity: Win32Handle | null,
  ): HResult {
    return this.#fn('HcsModifyComputeSystem')(system, operation, configuration, identity) as HResult;
  }

  async waitForComputeSystemExit(system: SystemHandle, timeoutMs: number): Promise<NativeResult> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsWaitForComputeSystemExit', [system, timeoutMs >>> 0, out]);
    return { hr, document: takeLocalString(out[0]) };
  }

  setComputeSystemCallback(system: SystemHandle, options: number, key: number | null): HResult {
    return this.#fn('HcsSetComputeSystemCallback')(
      system,
      options >>> 0,
      key === null ? null : BigInt(key),
      key === null ? null : this.#callbacks.event(),
    ) as HResult;
  }

  // Processes -------------------------------------------------------------------

  createProcess(
    system: SystemHandle,
    processParameters: string,
    operation: OperationHandle,
  ): HandleResult<ProcessHandle> {
    const out: [Pointer] = [null];
    const hr = this.#fn('HcsCreateProcess')(system, processParameters, operation, null, out) as HResult;
    return { hr, handle: nonNull(out[0]) as ProcessHandle | null };
  }

  async openProcess(
    system: SystemHandle,
    processId: number,
    requestedAccess: number,
  ): Promise<HandleResult<ProcessHandle>> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsOpenProcess', [
      system,
      processId >>> 0,
      requestedAccess >>> 0,
      out,
    ]);
    return { hr, handle: nonNull(out[0]) as ProcessHandle | null };
  }

  closeProcess(process: ProcessHandle): Promise<void> {
    return this.#async<void>('HcsCloseProcess', [process]);
  }

  processOperation(
    name: Parameters<ComputeCoreApi['processOperation']>[0],
    process: ProcessHandle,
    operation: OperationHandle,
    options: string | null,
  ): HResult {
    return this.#fn(name)(process, operation, options) as HResult;
  }

  getProcessInfo(process: ProcessHandle, operation: OperationHandle): HResult {
    return this.#fn('HcsGetProcessInfo')(process, operation) as HResult;
  }

  setProcessCallback(process: ProcessHandle, options: number, key: number | null): HResult {
    return this.#fn('HcsSetProcessCallback')(
      process,
      options >>> 0,
      key === null ? null : BigInt(key),
      key === null ? null : this.#callbacks.event(),
    ) as HResult;
  }

  async waitForProcessExit(process: ProcessHandle, timeoutMs: number): Promise<NativeResult> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsWaitForProcessExit', [process, timeoutMs >>> 0, out]);
    return { hr, document: takeLocalString(out[0]) };
  }

  // Service level -------------------------------------------------------------------

  async getServiceProperties(propertyQuery: string | null): Promise<NativeResult> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsGetServiceProperties', [propertyQuery, out]);
    return { hr, document: takeLocalString(out[0]) };
  }

  async modifyServiceSettings(settings: string): Promise<NativeResult> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsModifyServiceSettings', [settings, out]);
    return { hr, document: takeLocalString(out[0]) };
  }

  submitWerReport(settings: string): Promise<HResult> {
    return this.#async<HResult>('HcsSubmitWerReport', [settings]);
  }

  createEmptyGuestStateFile(path: string): Promise<HResult> {
    return this.#async<HResult>('HcsCreateEmptyGuestStateFile', [path]);
  }

  createEmptyRuntimeStateFile(path: string): Promise<HResult> {
    return this.#async<HResult>('HcsCreateEmptyRuntimeStateFile', [path]);
  }

  grantVmAccess(vmId: string, filePath: string): Promise<HResult> {
    return this.#async<HResult>('HcsGrantVmAccess', [vmId, filePath]);
  }

  revokeVmAccess(vmId: string, filePath: string): Promise<HResult> {
    return this.#async<HResult>('HcsRevokeVmAccess', [vmId, filePath]);
  }

  grantVmGroupAccess(filePath: string): Promise<HResult> {
    return this.#async<HResult>('HcsGrantVmGroupAccess', [filePath]);
  }

  revokeVmGroupAccess(filePath: string): Promise<HResult> {
    return this.#async<HResult>('HcsRevokeVmGroupAccess', [filePath]);
  }

  async getProcessorCompatibilityFromSavedState(runtimeFileName: string): Promise<NativeResult> {
    const out: [Pointer] = [null];
    const hr = await this.#async<HResult>('HcsGetProcessorCompatibilityFromSavedState', [
      runtimeFileName,
      out,
    ]);
    return { hr, document: takeLocalString(out[0]) };
  }

  // Plumbing ---------------------------------------------------------------------------

  #bind(name: ComputeCoreFunctionName): KoffiFunction | null {
    if (!this.#functions.has(name)) {
      let fn: KoffiFunction | null = null;
      try {
        const { signature } = COMPUTECORE_PROTOTYPES[name];
        declareTypesOf(signature);
        fn = this.#lib.func(signature);
      } catch {
        fn = null; // not exported by this build
      }
      this.#functions.set(name, fn);
    }
    return this.#functions.get(name) ?? null;
  }

  #fn(name: ComputeCoreFunctionName): KoffiFunction {
    const fn = this.#bind(name);
    if (!fn) {
      const proto: Prototype = COMPUTECORE_PROTOTYPES[name];
      throw new FunctionUnavailableError(LIBRARY, name, proto.minimumBuild);
    }
    return fn;
  }

  /** Runs a call on koffi's worker pool, so nothing that may wait blocks the main thread. */
  #async<T>(name: ComputeCoreFunctionName, args: unknown[]): Promise<T> {
    const fn = this.#fn(name);
    return new Promise<T>((resolve, reject) => {
      fn.async(...args, (error: unknown, result: T) => (error ? reject(error) : resolve(result)));
    });
  }
}
