import { PassThrough, type Readable, type Writable } from 'node:stream';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import {
  type CallbackSink,
  type ComputeCoreApi,
  type HandleResult,
  HcsEventType,
  HcsOperationType,
  type HResult,
  type Kernel32Api,
  type NativeResult,
  type OperationHandle,
  type ProcessHandle,
  type ProcessInformation,
  type ProcessOperationName,
  type SystemHandle,
  type SystemOperationName,
  type Win32Handle,
} from '../../src/native/index.js';

/**
 * An in-memory Host Compute Service behind the same {@link ComputeCoreApi} and
 * {@link Kernel32Api} interfaces the koffi binding implements. It behaves like
 * HCS where the HCS layer can tell: operations complete asynchronously through
 * the callback sink (never inside the call that started them), compute systems
 * move through Created/Running/Paused/Stopped, exits arrive as events, process
 * stdio are streams behind fake pipe handles.
 *
 * Tests steer it with {@link FakeComputeCore.onNext} / {@link FakeComputeCore.onEvery}
 * (delay, hang until cancelled, fail, reject), fire events by hand, and end with
 * {@link FakeComputeCore.assertNoLeaks}, which proves every operation, handle,
 * callback registration and pipe handed out was given back.
 */

/** HRESULTs the fake produces, as the signed int32 values the DLL returns. */
export const FakeHr = {
  S_OK: 0,
  E_NOTIMPL: 0x80004001 | 0,
  E_INVALIDARG: 0x80070057 | 0,
  E_HANDLE: 0x80070006 | 0,
  ERROR_NOT_FOUND: 0x80070490 | 0,
  ERROR_CANCELLED: 0x800704c7 | 0,
  HCS_E_INVALID_STATE: 0x80370105 | 0,
  HCS_E_INVALID_JSON: 0x8037010d | 0,
  HCS_E_SYSTEM_NOT_FOUND: 0x8037010e | 0,
  HCS_E_SYSTEM_ALREADY_EXISTS: 0x8037010f | 0,
  HCS_E_SYSTEM_ALREADY_STOPPED: 0x80370110 | 0,
  HCS_E_OPERATION_NOT_STARTED: 0x80370115 | 0,
  HCS_E_OPERATION_ALREADY_STARTED: 0x80370116 | 0,
  HCS_E_OPERATION_PENDING: 0x80370117 | 0,
  HCS_E_OPERATION_TIMEOUT: 0x80370118 | 0,
  HCS_E_PROCESS_ALREADY_STOPPED: 0x8037011f | 0,
} as const;

/** The HCS function names the fake accepts behaviours for. */
export type FakeFunctionName =
  | 'HcsCreateComputeSystem'
  | 'HcsCreateComputeSystemInNamespace'
  | 'HcsEnumerateComputeSystems'
  | 'HcsEnumerateComputeSystemsInNamespace'
  | SystemOperationName
  | 'HcsModifyComputeSystem'
  | 'HcsCreateProcess'
  | ProcessOperationName
  | 'HcsGetProcessInfo'
  | 'HcsOpenComputeSystem'
  | 'HcsOpenComputeSystemInNamespace'
  | 'HcsOpenProcess'
  | 'HcsGetServiceProperties'
  | 'HcsSetComputeSystemCallback'
  | 'HcsSetProcessCallback'
  | SimpleFunctionName;

/** The calls that return only an HRESULT (no operation, no handle). */
type SimpleFunctionName =
  | 'HcsSubmitWerReport'
  | 'HcsCreateEmptyGuestStateFile'
  | 'HcsCreateEmptyRuntimeStateFile'
  | 'HcsGrantVmAccess'
  | 'HcsRevokeVmAccess'
  | 'HcsGrantVmGroupAccess'
  | 'HcsRevokeVmGroupAccess';

/**
 * What the next matching call does instead of the normal simulation.
 * - `delay`: runs normally, but completes `ms` later (cancellable meanwhile).
 * - `hang`: never completes until cancelled; with `honourCancel: false` cancel
 *   returns E_NOTIMPL and only {@link FakeComputeCore.completePending} ends it.
 * - `fail`: the call is accepted, the operation completes with `hresult` and `document`.
 * - `reject`: the call itself returns `hresult` (request not accepted).
 * - `succeed`: completes with `document`, skipping the simulation (no state change).
 */
export type FakeBehaviour =
  | { kind: 'delay'; ms: number }
  | { kind: 'hang'; honourCancel?: boolean }
  | { kind: 'fail'; hresult: number; document?: FakeDocument; delayMs?: number }
  | { kind: 'reject'; hresult: number; document?: FakeDocument }
  | { kind: 'succeed'; document?: FakeDocument; delayMs?: number };

/** A result document, given as an object (serialised) or as the raw text. */
export type FakeDocument = object | string | null;

export type FakeSystemState = 'Created' | 'Running' | 'Paused' | 'Stopped';

export interface FakeSystem {
  readonly id: string;
  state: FakeSystemState;
  readonly configuration: unknown;
  readonly owner: string;
  readonly terminateOnLastHandleClosed: boolean;
  /** Every ModifySettingRequest applied, parsed. */
  readonly modifications: unknown[];
  readonly processes: FakeProcess[];
  exitStatus: object | undefined;
  /** Removed from the registry (stopped and no handle left, or failed creation). */
  gone: boolean;
}

export interface FakeProcess {
  readonly system: FakeSystem;
  readonly pid: number;
  readonly parameters: Record<string, unknown>;
  exited: boolean;
  exitCode: number;
  /** What `ProcessStatus` says about the exit: `ExitCode` left out, a non-zero `LastWaitResult`. */
  exitStatus?: FakeExitStatus;
  readonly signals: string[];
  readonly consoleSizes: Array<{ Width: number; Height: number }>;
  stdinClosedByHcs: boolean;
  /** The guest's view: read what the caller wrote to stdin. */
  readonly stdin: PassThrough | null;
  /** The guest's view: write here to produce output. Ended when the process exits. */
  readonly stdout: PassThrough | null;
  readonly stderr: PassThrough | null;
}

/** How a process's exit is reported (HCS-NOTES: ExitCode is valid only when LastWaitResult is 0). */
export interface FakeExitStatus {
  omitExitCode?: boolean;
  lastWaitResult?: number;
}

export interface FakeCall {
  readonly fn: string;
  readonly args: readonly unknown[];
}

interface OperationResult {
  hr: HResult;
  document: string | null;
  processInfo?: ProcessInformation | undefined;
}

type OperationState = 'idle' | 'pending' | 'completed';

interface FakeOperation {
  readonly handle: OperationHandle;
  readonly serial: number;
  key: number;
  state: OperationState;
  closed: boolean;
  fn: FakeFunctionName | undefined;
  type: number;
  system: SystemHandleRecord | undefined;
  process: ProcessHandleRecord | undefined;
  result: OperationResult | undefined;
  /** What completing will do; evaluated at completion time, as HCS would. */
  run: (() => OperationResult) | undefined;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  honourCancel: boolean;
  waiters: Array<() => void>;
  /** Runs when the operation completes with a failure (undo a half-done create). */
  onFailure: (() => void) | undefined;
}

interface SystemHandleRecord {
  readonly handle: SystemHandle;
  readonly system: FakeSystem;
  closed: boolean;
  callbackKey: number | null;
}

interface ProcessHandleRecord {
  readonly handle: ProcessHandle;
  readonly process: FakeProcess;
  closed: boolean;
  callbackKey: number | null;
}

interface PipeRecord {
  readonly handle: Win32Handle;
  readonly stream: PassThrough;
  readonly direction: 'read' | 'write';
  readonly process: FakeProcess;
  claimed: boolean;
  closed: boolean;
}

/** Counts of everything handed out and given back. */
export interface FakeLedger {
  operations: { created: number; closed: number; abandoned: number };
  systemHandles: { opened: number; closed: number };
  processHandles: { opened: number; closed: number };
  callbacks: { registered: number; unregistered: number };
  stdio: { returned: number; closed: number };
}

const s32 = (hr: number): HResult => hr | 0;
const toText = (doc: FakeDocument | undefined): string | null =>
  doc === undefined || doc === null ? null : typeof doc === 'string' ? doc : JSON.stringify(doc);

const SYSTEM_OPERATION_TYPES: Record<SystemOperationName, number> = {
  HcsStartComputeSystem: HcsOperationType.Start,
  HcsShutDownComputeSystem: HcsOperationType.Shutdown,
  HcsTerminateComputeSystem: HcsOperationType.Terminate,
  HcsCrashComputeSystem: HcsOperationType.Crash,
  HcsPauseComputeSystem: HcsOperationType.Pause,
  HcsResumeComputeSystem: HcsOperationType.Resume,
  HcsSaveComputeSystem: HcsOperationType.Save,
  HcsGetComputeSystemProperties: HcsOperationType.GetProperties,
};

const PROCESS_OPERATION_TYPES: Record<ProcessOperationName, number> = {
  HcsTerminateProcess: HcsOperationType.Terminate,
  HcsSignalProcess: HcsOperationType.SignalProcess,
  HcsGetProcessProperties: HcsOperationType.GetProcessProperties,
  HcsModifyProcess: HcsOperationType.ModifyProcess,
};

export class FakeComputeCore implements ComputeCoreApi, Kernel32Api {
  /** Every call made, in order (HCS names; kernel32 calls as `CloseHandle`, `pipeReadable`, ...). */
  readonly calls: FakeCall[] = [];
  /** Contract breaches by the code under test (use after close, handle closed with work pending, ...). */
  readonly violations: string[] = [];
  /** Exceptions that escaped the callback sink: the native layer would have swallowed them. */
  readonly sinkErrors: unknown[] = [];
  /** A readable order of what happened, for tests about sequencing. */
  readonly timeline: string[] = [];
  /** Milliseconds before a normal operation completes (0 = next turn of the event loop). */
  latencyMs = 0;
  /** Functions `hasFunction` denies, to simulate older builds. */
  readonly missingFunctions = new Set<string>();
  /** Runs inside HcsCreateProcess before the handle is returned (e.g. to exit at once). */
  processScript: ((process: FakeProcess) => void) | undefined;
  /** What HcsGetServiceProperties returns. */
  serviceProperties: object = {
    Properties: [
      {
        SupportedSchemaVersions: [
          { Major: 2, Minor: 1 },
          { Major: 2, Minor: 5 },
        ],
      },
    ],
  };

  readonly #systems = new Map<string, FakeSystem>();
  readonly #allSystems: FakeSystem[] = [];
  readonly #operations = new Map<bigint, FakeOperation>();
  readonly #systemHandles = new Map<bigint, SystemHandleRecord>();
  readonly #processHandles = new Map<bigint, ProcessHandleRecord>();
  readonly #pipes = new Map<bigint, PipeRecord>();
  readonly #once = new Map<string, FakeBehaviour[]>();
  readonly #every = new Map<string, FakeBehaviour>();
  readonly #nextAny: FakeBehaviour[] = [];
  #sink: CallbackSink | undefined;
  #nextOperation = 0x1000n;
  #nextSystem = 0x2000n;
  #nextProcess = 0x3000n;
  #nextPipe = 0x4000n;
  #nextPid = 100;
  #operationSerial = 0;
  readonly #ledger: FakeLedger = {
    operations: { created: 0, closed: 0, abandoned: 0 },
    systemHandles: { opened: 0, closed: 0 },
    processHandles: { opened: 0, closed: 0 },
    callbacks: { registered: 0, unregistered: 0 },
    stdio: { returned: 0, closed: 0 },
  };

  // ---------------------------------------------------------------------------
  // Test controls

  /** The next call to `fn` behaves as `behaviour` (queued, one per call). */
  onNext(fn: FakeFunctionName, behaviour: FakeBehaviour): this {
    const queue = this.#once.get(fn) ?? [];
    queue.push(behaviour);
    this.#once.set(fn, queue);
    return this;
  }

  /** Every call to `fn` behaves as `behaviour` until {@link clearBehaviours}. */
  onEvery(fn: FakeFunctionName, behaviour: FakeBehaviour): this {
    this.#every.set(fn, behaviour);
    return this;
  }

  /** The next operation-based call, whichever function it is, behaves as `behaviour`. */
  onNextCall(behaviour: FakeBehaviour): this {
    this.#nextAny.push(behaviour);
    return this;
  }

  clearBehaviours(): void {
    this.#once.clear();
    this.#every.clear();
    this.#nextAny.length = 0;
  }

  /** Native calls made so far, optionally of one function (setCallbackSink/hasFunction excluded). */
  nativeCalls(fn?: string): FakeCall[] {
    return this.calls.filter(
      (c) => c.fn !== 'setCallbackSink' && c.fn !== 'hasFunction' && (fn === undefined || c.fn === fn),
    );
  }

  /** A test marker in the timeline (e.g. when a promise settled). */
  mark(label: string): void {
    this.timeline.push(label);
  }

  /** Adds a system directly (as if created by another process), in `state`. */
  addSystem(id: string, state: FakeSystemState = 'Running', configuration: object = {}): FakeSystem {
    const system = this.#newSystem(id, configuration);
    system.state = state;
    this.#systems.set(id, system);
    return system;
  }

  system(id: string): FakeSystem {
    const system = this.#systems.get(id) ?? [...this.#allSystems].reverse().find((s) => s.id === id);
    if (!system) throw new Error(`fake: no system ${JSON.stringify(id)}`);
    return system;
  }

  /** Ids of the systems HCS knows now (created or running, not yet gone), as enumerate sees them. */
  systemIds(): string[] {
    return [...this.#systems.keys()];
  }

  /** Every process created in any system, oldest first. */
  get processes(): FakeProcess[] {
    return this.#allSystems.flatMap((s) => s.processes);
  }

  process(pid: number): FakeProcess {
    const process = this.processes.find((p) => p.pid === pid);
    if (!process) throw new Error(`fake: no process ${pid}`);
    return process;
  }

  /** Operations started and not yet completed. */
  pendingOperations(): Array<{ handle: OperationHandle; fn: string | undefined; closed: boolean }> {
    return [...this.#operations.values()]
      .filter((op) => op.state === 'pending')
      .map((op) => ({ handle: op.handle, fn: op.fn, closed: op.closed }));
  }

  /** Completes a pending operation now (normally, or with `result`), cancel or not. */
  completePending(handle: OperationHandle, result?: { hresult: number; document?: FakeDocument }): void {
    const op = this.#operations.get(handle);
    if (op?.state !== 'pending') throw new Error('fake: no such pending operation');
    this.#finish(
      op,
      result ? () => ({ hr: s32(result.hresult), document: toText(result.document) }) : undefined,
    );
  }

  /** The system stops (as if the guest shut down): processes exit, SystemExited fires. */
  stopSystem(id: string, exitType = 'GracefulExit', status = 0): void {
    this.#stop(this.system(id), { Status: status, ExitType: exitType });
  }

  /** The process exits with `exitCode`: stdout/stderr end, ProcessExited fires (with `status` shaping its ProcessStatus). */
  exitProcess(pid: number, exitCode = 0, status?: FakeExitStatus): void {
    const process = this.process(pid);
    if (status && !process.exited) process.exitStatus = status;
    this.#exitProcess(process, exitCode);
  }

  /** Delivers an event to every registered callback of system `id`'s handles. */
  fireSystemEvent(id: string, type: number, eventData: FakeDocument = null): void {
    const system = this.system(id);
    for (const record of this.#systemHandles.values())
      if (record.system === system && !record.closed && record.callbackKey !== null)
        this.#deliver(record.callbackKey, type, toText(eventData));
  }

  /** Delivers an event to every registered callback of process `pid`'s handles. */
  fireProcessEvent(pid: number, type: number, eventData: FakeDocument = null): void {
    const process = this.process(pid);
    for (const record of this.#processHandles.values())
      if (record.process === process && !record.closed && record.callbackKey !== null)
        this.#deliver(record.callbackKey, type, toText(eventData));
  }

  /** vmcompute went away: ServiceDisconnect to every registered callback. */
  disconnectService(): void {
    const records = [...this.#systemHandles.values(), ...this.#processHandles.values()];
    for (const record of records)
      if (!record.closed && record.callbackKey !== null)
        this.#deliver(record.callbackKey, HcsEventType.ServiceDisconnect, null);
  }

  /** Lets queued completions and closes run (a few turns of the event loop). */
  async settle(turns = 5): Promise<void> {
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  get ledger(): FakeLedger {
    return structuredClone(this.#ledger);
  }

  /** What is still open or went wrong, in words; empty when the test cleaned up after itself. */
  leaks(): string[] {
    const out: string[] = [];
    for (const op of this.#operations.values())
      if (!op.closed) out.push(`operation #${op.serial} (${op.fn ?? 'unused'}, ${op.state}) not closed`);
    for (const r of this.#systemHandles.values())
      if (!r.closed) out.push(`system handle for ${JSON.stringify(r.system.id)} not closed`);
    for (const r of this.#processHandles.values())
      if (!r.closed) out.push(`process handle for pid ${r.process.pid} not closed`);
    for (const p of this.#pipes.values())
      if (!p.closed)
        out.push(`std${p.direction === 'write' ? 'in' : 'out/err'} pipe of pid ${p.process.pid} not closed`);
    const { callbacks } = this.#ledger;
    if (callbacks.registered !== callbacks.unregistered)
      out.push(`${callbacks.registered - callbacks.unregistered} event callback(s) still registered`);
    for (const v of this.violations) out.push(`violation: ${v}`);
    for (const e of this.sinkErrors) out.push(`exception reached the callback sink: ${String(e)}`);
    return out;
  }

  assertNoLeaks(): void {
    const leaks = this.leaks();
    if (leaks.length) throw new Error(`fake HCS: leaks or misuse:\n  ${leaks.join('\n  ')}`);
  }

  // ---------------------------------------------------------------------------
  // ComputeCoreApi: operations

  hasFunction(name: string): boolean {
    this.#record('hasFunction', name);
    return !this.missingFunctions.has(name);
  }

  setCallbackSink(sink: CallbackSink): void {
    this.#record('setCallbackSink');
    this.#sink = sink;
  }

  createOperation(key: number): OperationHandle | null {
    this.#record('HcsCreateOperation', key);
    const handle = this.#nextOperation++ as OperationHandle;
    const serial = ++this.#operationSerial;
    this.#operations.set(handle, {
      handle,
      serial,
      key,
      state: 'idle',
      closed: false,
      fn: undefined,
      type: HcsOperationType.None,
      system: undefined,
      process: undefined,
      result: undefined,
      run: undefined,
      timer: undefined,
      honourCancel: true,
      waiters: [],
      onFailure: undefined,
    });
    this.#ledger.operations.created++;
    return handle;
  }

  async closeOperation(operation: OperationHandle): Promise<void> {
    this.#record('HcsCloseOperation', operation);
    await this.#hop();
    const op = this.#liveOperation(operation, 'HcsCloseOperation');
    if (!op) return;
    op.closed = true;
    this.#ledger.operations.closed++;
    if (op.state === 'pending') {
      // Abandoned: HCS finishes the work and discards the result; no callback follows.
      this.#ledger.operations.abandoned++;
      this.timeline.push(`abandon op#${op.serial}`);
      disarm(op);
    } else {
      this.timeline.push(`close op#${op.serial}`);
    }
  }

  getOperationContext(operation: OperationHandle): number {
    this.#record('HcsGetOperationContext', operation);
    return this.#liveOperation(operation, 'HcsGetOperationContext')?.key ?? 0;
  }

  setOperationContext(operation: OperationHandle, key: number): HResult {
    this.#record('HcsSetOperationContext', operation, key);
    const op = this.#liveOperation(operation, 'HcsSetOperationContext');
    if (!op) return FakeHr.E_HANDLE;
    op.key = key;
    return FakeHr.S_OK;
  }

  setOperationCallback(operation: OperationHandle, key: number): HResult {
    this.#record('HcsSetOperationCallback', operation, key);
    const op = this.#liveOperation(operation, 'HcsSetOperationCallback');
    if (!op) return FakeHr.E_HANDLE;
    op.key = key;
    return FakeHr.S_OK;
  }

  getComputeSystemFromOperation(operation: OperationHandle): SystemHandle | null {
    this.#record('HcsGetComputeSystemFromOperation', operation);
    return this.#liveOperation(operation, 'HcsGetComputeSystemFromOperation')?.system?.handle ?? null;
  }

  getProcessFromOperation(operation: OperationHandle): ProcessHandle | null {
    this.#record('HcsGetProcessFromOperation', operation);
    return this.#liveOperation(operation, 'HcsGetProcessFromOperation')?.process?.handle ?? null;
  }

  getOperationType(operation: OperationHandle): number {
    this.#record('HcsGetOperationType', operation);
    return this.#liveOperation(operation, 'HcsGetOperationType')?.type ?? HcsOperationType.None;
  }

  getOperationId(operation: OperationHandle): bigint {
    this.#record('HcsGetOperationId', operation);
    const op = this.#liveOperation(operation, 'HcsGetOperationId');
    return op ? BigInt(op.serial) : 0xffffffffffffffffn;
  }

  getOperationResult(operation: OperationHandle): NativeResult {
    this.#record('HcsGetOperationResult', operation);
    const { hr, document } = this.#resultOf(operation, 'HcsGetOperationResult');
    return { hr, document };
  }

  getOperationResultAndProcessInfo(
    operation: OperationHandle,
  ): NativeResult & { processInfo: ProcessInformation } {
    this.#record('HcsGetOperationResultAndProcessInfo', operation);
    const result = this.#resultOf(operation, 'HcsGetOperationResultAndProcessInfo');
    return {
      hr: result.hr,
      document: result.document,
      processInfo: result.processInfo ?? { processId: 0, stdInput: null, stdOutput: null, stdError: null },
    };
  }

  waitForOperationResult(operation: OperationHandle, timeoutMs: number): Promise<NativeResult> {
    this.#record('HcsWaitForOperationResult', operation, timeoutMs);
    return this.#waitOperation(operation, timeoutMs).then(({ hr, document }) => ({ hr, document }));
  }

  waitForOperationResultAndProcessInfo(
    operation: OperationHandle,
    timeoutMs: number,
  ): Promise<NativeResult & { processInfo: ProcessInformation }> {
    this.#record('HcsWaitForOperationResultAndProcessInfo', operation, timeoutMs);
    return this.#waitOperation(operation, timeoutMs).then((r) => ({
      hr: r.hr,
      document: r.document,
      processInfo: r.processInfo ?? { processId: 0, stdInput: null, stdOutput: null, stdError: null },
    }));
  }

  cancelOperation(operation: OperationHandle): HResult {
    this.#record('HcsCancelOperation', operation);
    const op = this.#liveOperation(operation, 'HcsCancelOperation');
    if (!op) return FakeHr.E_HANDLE;
    this.timeline.push(`cancel op#${op.serial}`);
    if (!op.honourCancel) return FakeHr.E_NOTIMPL;
    if (op.state !== 'pending') return FakeHr.S_OK;
    disarm(op);
    // Like HCS, the cancelled operation still completes through its callback, later.
    op.timer = setImmediate(() => this.#finish(op, () => ({ hr: FakeHr.ERROR_CANCELLED, document: null })));
    return FakeHr.S_OK;
  }

  // ---------------------------------------------------------------------------
  // ComputeCoreApi: compute systems

  enumerateComputeSystems(query: string | null, operation: OperationHandle): HResult {
    this.#record('HcsEnumerateComputeSystems', query, operation);
    return this.#start('HcsEnumerateComputeSystems', operation, HcsOperationType.Enumerate, {}, () =>
      this.#enumerate(query),
    );
  }

  enumerateComputeSystemsInNamespace(
    idNamespace: string,
    query: string | null,
    operation: OperationHandle,
  ): HResult {
    this.#record('HcsEnumerateComputeSystemsInNamespace', idNamespace, query, operation);
    return this.#start(
      'HcsEnumerateComputeSystemsInNamespace',
      operation,
      HcsOperationType.Enumerate,
      {},
      () => this.#enumerate(query),
    );
  }

  createComputeSystem(
    id: string,
    configuration: string,
    operation: OperationHandle,
  ): HandleResult<SystemHandle> {
    this.#record('HcsCreateComputeSystem', id, configuration, operation);
    return this.#createSystem('HcsCreateComputeSystem', id, configuration, operation, null);
  }

  createComputeSystemInNamespace(
    idNamespace: string,
    id: string,
    configuration: string,
    operation: OperationHandle,
    eventCallback: { options: number; key: number } | null,
  ): HandleResult<SystemHandle> {
    this.#record(
      'HcsCreateComputeSystemInNamespace',
      idNamespace,
      id,
      configuration,
      operation,
      eventCallback,
    );
    return this.#createSystem(
      'HcsCreateComputeSystemInNamespace',
      id,
      configuration,
      operation,
      eventCallback?.key ?? null,
    );
  }

  openComputeSystem(id: string, requestedAccess: number): Promise<HandleResult<SystemHandle>> {
    this.#record('HcsOpenComputeSystem', id, requestedAccess);
    return this.#openSystem('HcsOpenComputeSystem', id);
  }

  openComputeSystemInNamespace(
    idNamespace: string,
    id: string,
    requestedAccess: number,
  ): Promise<HandleResult<SystemHandle>> {
    this.#record('HcsOpenComputeSystemInNamespace', idNamespace, id, requestedAccess);
    return this.#openSystem('HcsOpenComputeSystemInNamespace', id);
  }

  async closeComputeSystem(system: SystemHandle): Promise<void> {
    this.#record('HcsCloseComputeSystem', system);
    await this.#hop();
    const record = this.#systemHandles.get(system);
    if (!record || record.closed) {
      this.violations.push(`HcsCloseComputeSystem on a ${record ? 'closed' : 'unknown'} handle`);
      return;
    }
    const busy = [...this.#operations.values()].filter(
      (op) => op.state === 'pending' && !op.closed && op.system === record,
    );
    if (busy.length)
      this.violations.push(
        `HcsCloseComputeSystem(${JSON.stringify(record.system.id)}) with operation(s) pending: ${busy.map((o) => o.fn).join(', ')}`,
      );
    this.#unregister(record);
    record.closed = true;
    this.#ledger.systemHandles.closed++;
    this.timeline.push(`close system ${record.system.id}`);
    this.#maybeForget(record.system, true);
  }

  systemOperation(
    name: SystemOperationName,
    system: SystemHandle,
    operation: OperationHandle,
    options: string | null,
  ): HResult {
    this.#record(name, system, operation, options);
    const record = this.#liveSystemHandle(system, name);
    if (!record) return FakeHr.E_HANDLE;
    if (options !== null && !isJson(options))
      return this.#startFailed(name, operation, FakeHr.HCS_E_INVALID_JSON);
    return this.#start(name, operation, SYSTEM_OPERATION_TYPES[name], { system: record }, () =>
      this.#lifecycle(name, record.system, options),
    );
  }

  modifyComputeSystem(
    system: SystemHandle,
    operation: OperationHandle,
    configuration: string,
    identity: Win32Handle | null,
  ): HResult {
    this.#record('HcsModifyComputeSystem', system, operation, configuration, identity);
    const record = this.#liveSystemHandle(system, 'HcsModifyComputeSystem');
    if (!record) return FakeHr.E_HANDLE;
    return this.#start(
      'HcsModifyComputeSystem',
      operation,
      HcsOperationType.Modify,
      { system: record },
      () => {
        if (!isJson(configuration)) return fail(FakeHr.HCS_E_INVALID_JSON);
        if (record.system.state === 'Stopped') return fail(FakeHr.HCS_E_SYSTEM_ALREADY_STOPPED);
        record.system.modifications.push(JSON.parse(configuration));
        return ok(null);
      },
    );
  }

  waitForComputeSystemExit(system: SystemHandle, timeoutMs: number): Promise<NativeResult> {
    this.#record('HcsWaitForComputeSystemExit', system, timeoutMs);
    const record = this.#liveSystemHandle(system, 'HcsWaitForComputeSystemExit');
    if (!record) return Promise.resolve({ hr: FakeHr.E_HANDLE, document: null });
    return this.#poll(
      () => (record.system.state === 'Stopped' ? ok(toText(record.system.exitStatus ?? {})) : undefined),
      timeoutMs,
    );
  }

  setComputeSystemCallback(system: SystemHandle, options: number, key: number | null): HResult {
    this.#record('HcsSetComputeSystemCallback', system, options, key);
    const record = this.#liveSystemHandle(system, 'HcsSetComputeSystemCallback');
    if (!record) return FakeHr.E_HANDLE;
    const rejected = this.#syncRejection('HcsSetComputeSystemCallback');
    if (rejected !== undefined) return rejected;
    this.#register(record, key);
    return FakeHr.S_OK;
  }

  // ---------------------------------------------------------------------------
  // ComputeCoreApi: processes

  createProcess(
    system: SystemHandle,
    processParameters: string,
    operation: OperationHandle,
  ): HandleResult<ProcessHandle> {
    this.#record('HcsCreateProcess', system, processParameters, operation);
    const record = this.#liveSystemHandle(system, 'HcsCreateProcess');
    if (!record) return { hr: FakeHr.E_HANDLE, handle: null };
    const op = this.#usableOperation(operation, 'HcsCreateProcess');
    if (typeof op === 'number') return { hr: op, handle: null };
    const behaviour = this.#behaviourFor('HcsCreateProcess');
    if (behaviour?.kind === 'reject') {
      op.result = { hr: s32(behaviour.hresult), document: toText(behaviour.document) };
      return { hr: s32(behaviour.hresult), handle: null };
    }
    if (!isJson(processParameters) || record.system.state !== 'Running' || behaviour?.kind === 'fail') {
      // Accepted, then fails: HCS gives no handle for a process it could not create.
      const hr =
        behaviour?.kind === 'fail'
          ? s32(behaviour.hresult)
          : !isJson(processParameters)
            ? FakeHr.HCS_E_INVALID_JSON
            : record.system.state === 'Stopped'
              ? FakeHr.HCS_E_SYSTEM_ALREADY_STOPPED
              : FakeHr.HCS_E_INVALID_STATE;
      const document = behaviour?.kind === 'fail' ? toText(behaviour.document) : null;
      this.#arm(
        op,
        'HcsCreateProcess',
        HcsOperationType.CreateProcess,
        { system: record },
        undefined,
        () => ({
          hr,
          document,
        }),
      );
      return { hr: FakeHr.S_OK, handle: null };
    }
    const parameters = JSON.parse(processParameters) as Record<string, unknown>;
    const process = this.#newProcess(record.system, parameters);
    const processRecord = this.#openProcessHandle(process);
    this.processScript?.(process);
    this.#arm(
      op,
      'HcsCreateProcess',
      HcsOperationType.CreateProcess,
      { system: record, process: processRecord },
      behaviour,
      () => ok(null, this.#handOutPipes(process)),
    );
    return { hr: FakeHr.S_OK, handle: processRecord.handle };
  }

  async openProcess(
    system: SystemHandle,
    processId: number,
    requestedAccess: number,
  ): Promise<HandleResult<ProcessHandle>> {
    this.#record('HcsOpenProcess', system, processId, requestedAccess);
    await this.#hop();
    const record = this.#liveSystemHandle(system, 'HcsOpenProcess');
    if (!record) return { hr: FakeHr.E_HANDLE, handle: null };
    const rejected = this.#syncRejection('HcsOpenProcess');
    if (rejected !== undefined) return { hr: rejected, handle: null };
    const process = record.system.processes.find((p) => p.pid === processId);
    if (!process) return { hr: FakeHr.ERROR_NOT_FOUND, handle: null };
    return { hr: FakeHr.S_OK, handle: this.#openProcessHandle(process).handle };
  }

  async closeProcess(process: ProcessHandle): Promise<void> {
    this.#record('HcsCloseProcess', process);
    await this.#hop();
    const record = this.#processHandles.get(process);
    if (!record || record.closed) {
      this.violations.push(`HcsCloseProcess on a ${record ? 'closed' : 'unknown'} handle`);
      return;
    }
    const busy = [...this.#operations.values()].filter(
      (op) => op.state === 'pending' && !op.closed && op.process === record,
    );
    if (busy.length)
      this.violations.push(
        `HcsCloseProcess(pid ${record.process.pid}) with operation(s) pending: ${busy.map((o) => o.fn).join(', ')}`,
      );
    this.#unregister(record);
    record.closed = true;
    this.#ledger.processHandles.closed++;
    this.timeline.push(`close process ${record.process.pid}`);
  }

  processOperation(
    name: ProcessOperationName,
    process: ProcessHandle,
    operation: OperationHandle,
    options: string | null,
  ): HResult {
    this.#record(name, process, operation, options);
    const record = this.#liveProcessHandle(process, name);
    if (!record) return FakeHr.E_HANDLE;
    if (options !== null && !isJson(options))
      return this.#startFailed(name, operation, FakeHr.HCS_E_INVALID_JSON);
    return this.#start(name, operation, PROCESS_OPERATION_TYPES[name], { process: record }, () =>
      this.#processRequest(name, record.process, options),
    );
  }

  getProcessInfo(process: ProcessHandle, operation: OperationHandle): HResult {
    this.#record('HcsGetProcessInfo', process, operation);
    const record = this.#liveProcessHandle(process, 'HcsGetProcessInfo');
    if (!record) return FakeHr.E_HANDLE;
    return this.#start(
      'HcsGetProcessInfo',
      operation,
      HcsOperationType.GetProcessInfo,
      { process: record },
      () =>
        // HCS hands the pipes out once, at creation.
        ok(null, { processId: record.process.pid, stdInput: null, stdOutput: null, stdError: null }),
    );
  }

  setProcessCallback(process: ProcessHandle, options: number, key: number | null): HResult {
    this.#record('HcsSetProcessCallback', process, options, key);
    const record = this.#liveProcessHandle(process, 'HcsSetProcessCallback');
    if (!record) return FakeHr.E_HANDLE;
    const rejected = this.#syncRejection('HcsSetProcessCallback');
    if (rejected !== undefined) return rejected;
    this.#register(record, key);
    return FakeHr.S_OK;
  }

  waitForProcessExit(process: ProcessHandle, timeoutMs: number): Promise<NativeResult> {
    this.#record('HcsWaitForProcessExit', process, timeoutMs);
    const record = this.#liveProcessHandle(process, 'HcsWaitForProcessExit');
    if (!record) return Promise.resolve({ hr: FakeHr.E_HANDLE, document: null });
    return this.#poll(
      () => (record.process.exited ? ok(JSON.stringify(processStatus(record.process))) : undefined),
      timeoutMs,
    );
  }

  // ---------------------------------------------------------------------------
  // ComputeCoreApi: service level

  async getServiceProperties(propertyQuery: string | null): Promise<NativeResult> {
    this.#record('HcsGetServiceProperties', propertyQuery);
    const behaviour = this.#behaviourFor('HcsGetServiceProperties');
    await this.#hop(behaviour?.kind === 'delay' ? behaviour.ms : 0);
    if (behaviour?.kind === 'reject' || behaviour?.kind === 'fail')
      return { hr: s32(behaviour.hresult), document: toText(behaviour.document) };
    if (behaviour?.kind === 'succeed') return { hr: 0, document: toText(behaviour.document) };
    return { hr: 0, document: JSON.stringify(this.serviceProperties) };
  }

  modifyServiceSettings(settings: string): Promise<NativeResult> {
    this.#record('HcsModifyServiceSettings', settings);
    return this.#hop().then(() => ({ hr: 0, document: null }));
  }

  submitWerReport(settings: string): Promise<HResult> {
    return this.#simple('HcsSubmitWerReport', settings);
  }
  createEmptyGuestStateFile(path: string): Promise<HResult> {
    return this.#simple('HcsCreateEmptyGuestStateFile', path);
  }
  createEmptyRuntimeStateFile(path: string): Promise<HResult> {
    return this.#simple('HcsCreateEmptyRuntimeStateFile', path);
  }
  grantVmAccess(vmId: string, filePath: string): Promise<HResult> {
    return this.#simple('HcsGrantVmAccess', vmId, filePath);
  }
  revokeVmAccess(vmId: string, filePath: string): Promise<HResult> {
    return this.#simple('HcsRevokeVmAccess', vmId, filePath);
  }
  grantVmGroupAccess(filePath: string): Promise<HResult> {
    return this.#simple('HcsGrantVmGroupAccess', filePath);
  }
  revokeVmGroupAccess(filePath: string): Promise<HResult> {
    return this.#simple('HcsRevokeVmGroupAccess', filePath);
  }
  getProcessorCompatibilityFromSavedState(runtimeFileName: string): Promise<NativeResult> {
    this.#record('HcsGetProcessorCompatibilityFromSavedState', runtimeFileName);
    return this.#hop().then(() => ({ hr: 0, document: '{}' }));
  }

  // ---------------------------------------------------------------------------
  // Kernel32Api

  closeHandle(handle: Win32Handle): boolean {
    this.#record('CloseHandle', handle);
    const pipe = this.#pipes.get(handle);
    if (!pipe || pipe.closed) {
      this.violations.push(`CloseHandle on a ${pipe ? 'closed' : 'unknown'} handle`);
      return false;
    }
    this.#closePipe(pipe);
    pipe.stream.destroy();
    return true;
  }

  pipeReadable(handle: Win32Handle): Readable {
    this.#record('pipeReadable', handle);
    return this.#claimPipe(handle, 'read');
  }

  pipeWritable(handle: Win32Handle): Writable {
    this.#record('pipeWritable', handle);
    return this.#claimPipe(handle, 'write');
  }

  // ---------------------------------------------------------------------------
  // Simulation

  #record(fn: string, ...args: unknown[]): void {
    this.calls.push({ fn, args });
  }

  /** Resolves on a later turn, as a call run on a worker thread would. */
  #hop(ms = 0): Promise<void> {
    return ms > 0 ? sleep(ms) : nextTurn();
  }

  /**
   * A call that returns only an HRESULT (grants, state files): it fails when a
   * test queued a failure for it by name (`onNext`/`onEvery`, never `onNextCall`,
   * so tests that queue for the operation calls around it are not disturbed).
   */
  #simple(fn: FakeFunctionName, ...args: unknown[]): Promise<HResult> {
    this.#record(fn, ...args);
    const behaviour = this.#once.get(fn)?.shift() ?? this.#every.get(fn);
    const delay = behaviour?.kind === 'delay' ? behaviour.ms : 0;
    return this.#hop(delay).then(() =>
      behaviour?.kind === 'fail' || behaviour?.kind === 'reject' ? s32(behaviour.hresult) : FakeHr.S_OK,
    );
  }

  #behaviourFor(fn: FakeFunctionName): FakeBehaviour | undefined {
    const once = this.#once.get(fn)?.shift();
    if (once) return once;
    const every = this.#every.get(fn);
    if (every) return every;
    return this.#nextAny.shift();
  }

  #syncRejection(fn: FakeFunctionName): HResult | undefined {
    const queue = this.#once.get(fn);
    const behaviour = queue?.[0] ?? this.#every.get(fn);
    if (behaviour?.kind !== 'reject') return undefined;
    queue?.shift();
    return s32(behaviour.hresult);
  }

  #liveOperation(handle: OperationHandle, fn: string): FakeOperation | undefined {
    const op = this.#operations.get(handle);
    if (!op || op.closed) {
      this.violations.push(`${fn} on a ${op ? 'closed' : 'unknown'} operation`);
      return undefined;
    }
    return op;
  }

  #liveSystemHandle(handle: SystemHandle, fn: string): SystemHandleRecord | undefined {
    const record = this.#systemHandles.get(handle);
    if (!record || record.closed) {
      this.violations.push(`${fn} on a ${record ? 'closed' : 'unknown'} system handle`);
      return undefined;
    }
    return record;
  }

  #liveProcessHandle(handle: ProcessHandle, fn: string): ProcessHandleRecord | undefined {
    const record = this.#processHandles.get(handle);
    if (!record || record.closed) {
      this.violations.push(`${fn} on a ${record ? 'closed' : 'unknown'} process handle`);
      return undefined;
    }
    return record;
  }

  /** The operation, if it may be used for a new call; otherwise the HRESULT HCS would return. */
  #usableOperation(handle: OperationHandle, fn: FakeFunctionName): FakeOperation | HResult {
    const op = this.#liveOperation(handle, fn);
    if (!op) return FakeHr.E_HANDLE;
    if (op.state === 'pending') {
      this.violations.push(`${fn} with operation #${op.serial} already in use by ${op.fn}`);
      return FakeHr.HCS_E_OPERATION_ALREADY_STARTED;
    }
    return op;
  }

  /** Starts an operation-based call, applying any behaviour set for `fn`. */
  #start(
    fn: FakeFunctionName,
    operation: OperationHandle,
    type: number,
    target: { system?: SystemHandleRecord; process?: ProcessHandleRecord },
    run: () => OperationResult,
  ): HResult {
    const op = this.#usableOperation(operation, fn);
    if (typeof op === 'number') return op;
    const behaviour = this.#behaviourFor(fn);
    if (behaviour?.kind === 'reject') {
      // Not accepted: the result (and any ResultError) is readable on the operation.
      op.fn = fn;
      op.result = { hr: s32(behaviour.hresult), document: toText(behaviour.document) };
      this.timeline.push(`reject op#${op.serial} ${fn}`);
      return s32(behaviour.hresult);
    }
    this.#arm(op, fn, type, target, behaviour, run);
    return FakeHr.S_OK;
  }

  /** A call accepted whose operation will fail with `hr` (bad JSON and the like). */
  #startFailed(fn: FakeFunctionName, operation: OperationHandle, hr: HResult): HResult {
    const op = this.#usableOperation(operation, fn);
    if (typeof op === 'number') return op;
    this.#arm(op, fn, HcsOperationType.None, {}, undefined, () => fail(hr));
    return FakeHr.S_OK;
  }

  #arm(
    op: FakeOperation,
    fn: FakeFunctionName,
    type: number,
    target: { system?: SystemHandleRecord; process?: ProcessHandleRecord },
    behaviour: FakeBehaviour | undefined,
    run: () => OperationResult,
  ): void {
    op.fn = fn;
    op.type = type;
    op.system = target.system;
    op.process = target.process;
    op.state = 'pending';
    op.result = undefined;
    op.honourCancel = true;
    op.onFailure = undefined;
    this.timeline.push(`start op#${op.serial} ${fn}`);
    let delayMs = this.latencyMs;
    switch (behaviour?.kind) {
      case 'delay':
        delayMs = behaviour.ms;
        break;
      case 'hang':
        op.honourCancel = behaviour.honourCancel !== false;
        op.run = run;
        return; // only cancel or completePending ends it
      case 'fail': {
        const { hresult, document } = behaviour;
        run = () => ({ hr: s32(hresult), document: toText(document) });
        delayMs = behaviour.delayMs ?? delayMs;
        break;
      }
      case 'succeed': {
        const { document } = behaviour;
        run = () => ok(toText(document));
        delayMs = behaviour.delayMs ?? delayMs;
        break;
      }
      default:
        break;
    }
    op.run = run;
    op.timer =
      delayMs > 0 ? setTimeout(() => this.#finish(op), delayMs) : setImmediate(() => this.#finish(op));
  }

  /** Completes `op`: runs its effect (or `override`), then calls the completion callback. */
  #finish(op: FakeOperation, override?: () => OperationResult): void {
    if (op.state !== 'pending') return;
    op.timer = undefined;
    const run = override ?? op.run;
    op.run = undefined;
    if (op.closed) {
      op.state = 'completed';
      return; // abandoned: the result is discarded, no callback
    }
    const result = run ? run() : ok(null);
    if (result.hr < 0) op.onFailure?.();
    op.onFailure = undefined;
    op.state = 'completed';
    op.result = result;
    this.timeline.push(`complete op#${op.serial} ${op.fn} 0x${(result.hr >>> 0).toString(16)}`);
    for (const wake of op.waiters.splice(0)) wake();
    if (!this.#sink) {
      this.violations.push(`operation #${op.serial} completed with no callback sink installed`);
      return;
    }
    try {
      this.#sink.operationCompleted(op.key, op.handle);
    } catch (error) {
      this.sinkErrors.push(error);
    }
  }

  #resultOf(handle: OperationHandle, fn: string): OperationResult {
    const op = this.#liveOperation(handle, fn);
    if (!op) return { hr: FakeHr.E_HANDLE, document: null };
    if (op.state === 'pending') return { hr: FakeHr.HCS_E_OPERATION_PENDING, document: null };
    return op.result ?? { hr: FakeHr.HCS_E_OPERATION_NOT_STARTED, document: null };
  }

  async #waitOperation(handle: OperationHandle, timeoutMs: number): Promise<OperationResult> {
    const op = this.#operations.get(handle);
    if (op?.state === 'pending') {
      const done = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        op.waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!done) return { hr: FakeHr.HCS_E_OPERATION_TIMEOUT, document: null };
    }
    return this.#resultOf(handle, 'HcsWaitForOperationResult');
  }

  async #poll(check: () => OperationResult | undefined, timeoutMs: number): Promise<NativeResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = check();
      if (result) return { hr: result.hr, document: result.document };
      if (Date.now() >= deadline) return { hr: FakeHr.HCS_E_OPERATION_TIMEOUT, document: null };
      await this.#hop(5);
    }
  }

  #deliver(key: number, type: number, eventData: string | null): void {
    this.timeline.push(`event 0x${type.toString(16)} -> key ${key}`);
    if (!this.#sink) {
      this.violations.push('event fired with no callback sink installed');
      return;
    }
    try {
      this.#sink.eventReceived(key, { type, eventData, operation: null });
    } catch (error) {
      this.sinkErrors.push(error);
    }
  }

  #register(record: SystemHandleRecord | ProcessHandleRecord, key: number | null): void {
    if (record.callbackKey !== null) this.#unregister(record);
    if (key === null) return;
    record.callbackKey = key;
    this.#ledger.callbacks.registered++;
  }

  #unregister(record: SystemHandleRecord | ProcessHandleRecord): void {
    if (record.callbackKey === null) return;
    record.callbackKey = null;
    this.#ledger.callbacks.unregistered++;
  }

  #newSystem(id: string, configuration: unknown): FakeSystem {
    const config = (configuration && typeof configuration === 'object' ? configuration : {}) as Record<
      string,
      unknown
    >;
    const system: FakeSystem = {
      id,
      state: 'Created',
      configuration,
      owner: typeof config.Owner === 'string' ? config.Owner : 'fake',
      terminateOnLastHandleClosed: config.ShouldTerminateOnLastHandleClosed === true,
      modifications: [],
      processes: [],
      exitStatus: undefined,
      gone: false,
    };
    this.#allSystems.push(system);
    return system;
  }

  #openSystemHandle(system: FakeSystem): SystemHandleRecord {
    const record: SystemHandleRecord = {
      handle: this.#nextSystem++ as SystemHandle,
      system,
      closed: false,
      callbackKey: null,
    };
    this.#systemHandles.set(record.handle, record);
    this.#ledger.systemHandles.opened++;
    return record;
  }

  #createSystem(
    fn: 'HcsCreateComputeSystem' | 'HcsCreateComputeSystemInNamespace',
    id: string,
    configuration: string,
    operation: OperationHandle,
    callbackKey: number | null,
  ): HandleResult<SystemHandle> {
    const op = this.#usableOperation(operation, fn);
    if (typeof op === 'number') return { hr: op, handle: null };
    const behaviour = this.#behaviourFor(fn);
    if (behaviour?.kind === 'reject') {
      op.fn = fn;
      op.result = { hr: s32(behaviour.hresult), document: toText(behaviour.document) };
      return { hr: s32(behaviour.hresult), handle: null };
    }
    const parsed = isJson(configuration) ? (JSON.parse(configuration) as unknown) : undefined;
    const system = this.#newSystem(id, parsed);
    const duplicate = this.#systems.has(id);
    if (!duplicate && parsed !== undefined) this.#systems.set(id, system); // visible while being created
    const record = this.#openSystemHandle(system);
    if (callbackKey !== null) this.#register(record, callbackKey);
    this.#arm(op, fn, HcsOperationType.Create, { system: record }, behaviour, () => {
      if (parsed === undefined) return this.#failCreate(system, FakeHr.HCS_E_INVALID_JSON);
      if (duplicate) return this.#failCreate(system, FakeHr.HCS_E_SYSTEM_ALREADY_EXISTS);
      return ok(null);
    });
    // However it fails (simulated, by behaviour, cancelled), the half-made system goes away.
    op.onFailure = () => {
      if (!duplicate) this.#failCreate(system, FakeHr.S_OK);
    };
    return { hr: FakeHr.S_OK, handle: record.handle };
  }

  #failCreate(system: FakeSystem, hr: HResult): OperationResult {
    if (this.#systems.get(system.id) === system) this.#systems.delete(system.id);
    system.gone = true;
    system.state = 'Stopped';
    return fail(hr);
  }

  async #openSystem(fn: FakeFunctionName, id: string): Promise<HandleResult<SystemHandle>> {
    await this.#hop();
    const rejected = this.#syncRejection(fn);
    if (rejected !== undefined) return { hr: rejected, handle: null };
    const system = this.#systems.get(id);
    if (!system) return { hr: FakeHr.HCS_E_SYSTEM_NOT_FOUND, handle: null };
    return { hr: FakeHr.S_OK, handle: this.#openSystemHandle(system).handle };
  }

  /** After a handle closes: a stopped system with no handle left is gone. */
  #maybeForget(system: FakeSystem, handleClosed: boolean): void {
    const open = [...this.#systemHandles.values()].some((r) => r.system === system && !r.closed);
    if (open) return;
    if (handleClosed && system.terminateOnLastHandleClosed && system.state !== 'Stopped')
      this.#stop(system, { Status: 0, ExitType: 'ForcedExit' });
    if (system.state === 'Stopped') {
      if (this.#systems.get(system.id) === system) this.#systems.delete(system.id);
      system.gone = true;
    }
  }

  #enumerate(query: string | null): OperationResult {
    let filter: { Ids?: string[]; Names?: string[]; Owners?: string[]; Types?: string[] } = {};
    if (query !== null) {
      if (!isJson(query)) return fail(FakeHr.HCS_E_INVALID_JSON);
      filter = JSON.parse(query) as typeof filter;
    }
    const list = [...this.#systems.values()]
      .filter((s) => !filter.Ids || filter.Ids.includes(s.id))
      .filter((s) => !filter.Owners || filter.Owners.includes(s.owner))
      .filter((s) => !filter.Types || filter.Types.includes(systemType(s)))
      .map((s) => ({ Id: s.id, SystemType: systemType(s), Owner: s.owner, State: s.state }));
    return ok(JSON.stringify(list));
  }

  #lifecycle(name: SystemOperationName, system: FakeSystem, options: string | null): OperationResult {
    const { state } = system;
    const stopped = () => fail(FakeHr.HCS_E_SYSTEM_ALREADY_STOPPED);
    const invalid = () => fail(FakeHr.HCS_E_INVALID_STATE);
    switch (name) {
      case 'HcsGetComputeSystemProperties': {
        const query = options ? (JSON.parse(options) as { PropertyTypes?: string[] }) : {};
        const doc: Record<string, unknown> = {
          Id: system.id,
          SystemType: systemType(system),
          Owner: system.owner,
          State: state,
        };
        // A VM's partition id (HvSocket addresses it); the fake derives one from the id.
        if (doc.SystemType === 'VirtualMachine') doc.RuntimeId = `runtime-${system.id}`;
        if (query.PropertyTypes?.includes('ProcessList'))
          doc.ProcessList = system.processes
            .filter((p) => !p.exited)
            .map((p) => ({ ProcessId: p.pid, ImageName: String(p.parameters.CommandLine ?? '') }));
        if (query.PropertyTypes?.includes('Statistics')) doc.Statistics = { Uptime100ns: 1 };
        return ok(JSON.stringify(doc));
      }
      case 'HcsStartComputeSystem':
        if (state !== 'Created') return invalid();
        system.state = 'Running';
        return ok(null);
      case 'HcsPauseComputeSystem':
        if (state === 'Stopped') return stopped();
        if (state !== 'Running') return invalid();
        system.state = 'Paused';
        return ok(null);
      case 'HcsResumeComputeSystem':
        if (state === 'Stopped') return stopped();
        if (state !== 'Paused') return invalid();
        system.state = 'Running';
        return ok(null);
      case 'HcsSaveComputeSystem':
        if (state === 'Stopped') return stopped();
        if (state !== 'Paused') return invalid();
        return ok(null);
      case 'HcsShutDownComputeSystem':
        if (state === 'Stopped') return stopped();
        if (state !== 'Running') return invalid();
        this.#stop(system, { Status: 0, ExitType: 'GracefulExit' });
        return ok(null);
      case 'HcsTerminateComputeSystem':
        if (state === 'Stopped') return stopped();
        this.#stop(system, { Status: 0, ExitType: 'ForcedExit' });
        return ok(null);
      case 'HcsCrashComputeSystem':
        if (state === 'Stopped') return stopped();
        if (state !== 'Running') return invalid();
        this.fireSystemEvent(system.id, HcsEventType.SystemCrashInitiated, { CrashParameters: [1] });
        this.fireSystemEvent(system.id, HcsEventType.SystemCrashReport, { SystemId: system.id });
        this.#stop(system, { Status: 0, ExitType: 'UnexpectedExit' });
        return ok(null);
    }
  }

  #stop(system: FakeSystem, exitStatus: object): void {
    if (system.state === 'Stopped') return;
    system.state = 'Stopped';
    system.exitStatus = exitStatus;
    for (const process of system.processes) this.#exitProcess(process, 0xc000013a);
    this.fireSystemEvent(system.id, HcsEventType.SystemExited, exitStatus);
    this.#maybeForget(system, false);
  }

  #newProcess(system: FakeSystem, parameters: Record<string, unknown>): FakeProcess {
    const pipe = (flag: string) => (parameters[flag] === true ? new PassThrough() : null);
    const process: FakeProcess = {
      system,
      pid: this.#nextPid++,
      parameters,
      exited: false,
      exitCode: 0,
      signals: [],
      consoleSizes: [],
      stdinClosedByHcs: false,
      stdin: pipe('CreateStdInPipe'),
      stdout: pipe('CreateStdOutPipe'),
      stderr: pipe('CreateStdErrPipe'),
    };
    system.processes.push(process);
    return process;
  }

  #openProcessHandle(process: FakeProcess): ProcessHandleRecord {
    const record: ProcessHandleRecord = {
      handle: this.#nextProcess++ as ProcessHandle,
      process,
      closed: false,
      callbackKey: null,
    };
    this.#processHandles.set(record.handle, record);
    this.#ledger.processHandles.opened++;
    return record;
  }

  #handOutPipes(process: FakeProcess): ProcessInformation {
    const handOut = (stream: PassThrough | null, direction: 'read' | 'write'): Win32Handle | null => {
      if (!stream) return null;
      const handle = this.#nextPipe++ as Win32Handle;
      this.#pipes.set(handle, { handle, stream, direction, process, claimed: false, closed: false });
      this.#ledger.stdio.returned++;
      return handle;
    };
    return {
      processId: process.pid,
      stdInput: handOut(process.stdin, 'write'),
      stdOutput: handOut(process.stdout, 'read'),
      stdError: handOut(process.stderr, 'read'),
    };
  }

  #claimPipe(handle: Win32Handle, direction: 'read' | 'write'): PassThrough {
    const pipe = this.#pipes.get(handle);
    if (!pipe || pipe.closed || pipe.claimed || pipe.direction !== direction) {
      const why = !pipe
        ? 'unknown'
        : pipe.closed
          ? 'closed'
          : pipe.claimed
            ? 'already wrapped'
            : 'wrong-direction';
      this.violations.push(`pipe${direction === 'read' ? 'Readable' : 'Writable'} on a ${why} handle`);
      throw new Error(`fake: ${why} pipe handle`);
    }
    pipe.claimed = true;
    // The stream owns the handle: it is closed when the stream is destroyed or,
    // for the write end, when it is ended (the reader sees EOF).
    const close = () => this.#closePipe(pipe);
    pipe.stream.once('close', close);
    if (direction === 'write') pipe.stream.once('finish', close);
    return pipe.stream;
  }

  #closePipe(pipe: PipeRecord): void {
    if (pipe.closed) return;
    pipe.closed = true;
    this.#ledger.stdio.closed++;
  }

  #processRequest(name: ProcessOperationName, process: FakeProcess, options: string | null): OperationResult {
    switch (name) {
      case 'HcsGetProcessProperties':
        return ok(JSON.stringify(processStatus(process)));
      case 'HcsTerminateProcess':
        if (process.exited) return fail(FakeHr.HCS_E_PROCESS_ALREADY_STOPPED);
        this.#exitProcess(process, 1);
        return ok(null);
      case 'HcsSignalProcess': {
        if (process.exited) return fail(FakeHr.HCS_E_PROCESS_ALREADY_STOPPED);
        const { Signal } = (options ? JSON.parse(options) : {}) as { Signal?: string };
        process.signals.push(Signal ?? 'CtrlC');
        return ok(null);
      }
      case 'HcsModifyProcess': {
        if (process.exited) return fail(FakeHr.HCS_E_PROCESS_ALREADY_STOPPED);
        const request = (options ? JSON.parse(options) : {}) as {
          Operation?: string;
          ConsoleSize?: { Width: number; Height: number };
          CloseHandle?: { Handle?: string };
        };
        if (request.Operation === 'ConsoleSize' && request.ConsoleSize) {
          process.consoleSizes.push(request.ConsoleSize);
          return ok(null);
        }
        if (request.Operation === 'CloseHandle' && request.CloseHandle?.Handle === 'StdIn') {
          process.stdinClosedByHcs = true;
          return ok(null);
        }
        return fail(FakeHr.HCS_E_INVALID_JSON);
      }
    }
  }

  #exitProcess(process: FakeProcess, exitCode: number): void {
    if (process.exited) return;
    process.exited = true;
    process.exitCode = exitCode >>> 0;
    // The guest's ends of the pipes go away: the caller reads EOF.
    if (process.stdout && !process.stdout.writableEnded) process.stdout.end();
    if (process.stderr && !process.stderr.writableEnded) process.stderr.end();
    for (const record of this.#processHandles.values())
      if (record.process === process && !record.closed && record.callbackKey !== null)
        this.#deliver(record.callbackKey, HcsEventType.ProcessExited, JSON.stringify(processStatus(process)));
  }
}

/** Stops a scheduled completion, whichever kind of timer it is. */
function disarm(op: FakeOperation): void {
  const { timer } = op;
  op.timer = undefined;
  if (timer === undefined) return;
  if ('hasRef' in timer && 'refresh' in timer) clearTimeout(timer);
  else clearImmediate(timer as NodeJS.Immediate);
}

function ok(document: string | null, processInfo?: ProcessInformation): OperationResult {
  return { hr: FakeHr.S_OK, document, processInfo };
}

function fail(hr: HResult): OperationResult {
  return { hr, document: null };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function systemType(system: FakeSystem): string {
  const config = system.configuration as { VirtualMachine?: unknown } | undefined;
  return config && typeof config === 'object' && 'VirtualMachine' in config ? 'VirtualMachine' : 'Container';
}

function processStatus(process: FakeProcess) {
  const { omitExitCode = false, lastWaitResult = 0 } = process.exitStatus ?? {};
  return {
    ProcessId: process.pid,
    Exited: process.exited,
    ...(!omitExitCode && { ExitCode: process.exitCode }),
    LastWaitResult: lastWaitResult,
  };
}
