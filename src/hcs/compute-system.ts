import { setMaxListeners } from 'node:events';
import { InvalidArgumentError } from '../internal/errors.js';
import {
  GENERIC_ALL,
  HcsEventOptions,
  type HcsEventRecord,
  type SystemHandle,
  type SystemOperationName,
} from '../native/index.js';
import { HandleClosedError, HcsError } from './errors.js';
import { EventStream } from './event-stream.js';
import { HR } from './hresults.js';
import { holdEventLoop } from './keepalive.js';
import { type CallOptions, runOperation, validateCallOptions } from './operation.js';
import { hcsRuntime } from './runtime.js';
import { type HcsDocument, parseJson, serialise, validateId } from './system-document.js';
import { type ComputeSystemEvent, type SystemExitStatus, toSystemEvent } from './system-events.js';
import { defaultTimeout, type TimeoutName } from './timeouts.js';
import { deferred, waitWithin } from './wait.js';

// Re-exported so the module's public surface (index.ts, process.ts) stays as it was.
export type { HcsDocument } from './system-document.js';
export type { ComputeSystemEvent, SystemExitStatus } from './system-events.js';

/**
 * A compute system (container or VM) held through an `HCS_SYSTEM` handle. The
 * handle's event callback is registered as soon as HCS hands the handle back,
 * so an early exit is never missed. While the object is open it keeps the Node
 * process alive, like a socket: close it (or use `await using`).
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcscreatecomputesystem
 */
export class ComputeSystem implements AsyncDisposable {
  readonly id: string;
  #handle: SystemHandle | null = null;
  #eventsKey: number | undefined;
  #releaseLoop: (() => void) | undefined;
  #exitStatus: SystemExitStatus | undefined;
  #disconnected = false;
  readonly #events = new EventStream<ComputeSystemEvent>();
  /** Settles once: the exit status, or why it can no longer be known (closed, disconnected). */
  readonly #exited = deferred<SystemExitStatus>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  private constructor(id: string) {
    this.id = id;
  }

  /**
   * Creates a compute system from a document (schema 2.x `ComputeSystem`). Resolves
   * when HCS reports the system created (state `Created`; not started).
   * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcscreatecomputesystem
   */
  static async create(id: string, document: HcsDocument, options?: CallOptions): Promise<ComputeSystem> {
    validateId(id);
    const configuration = serialise('document', document);
    if (configuration === null)
      throw new InvalidArgumentError('document', 'a compute system document', document);
    validateCallOptions(options);
    const system = new ComputeSystem(id);
    // Thrown after HCS accepted the request: wait for the operation rather than abandon it.
    let attachError: unknown;
    try {
      await runOperation(
        {
          name: 'HcsCreateComputeSystem',
          systemId: id,
          timeout: 'LIFECYCLE',
          call: (api, op) => {
            const created = api.createComputeSystem(id, configuration, op);
            if (created.handle) {
              try {
                system.#attach(created.handle);
              } catch (error) {
                attachError = error;
              }
            }
            return created.hr;
          },
        },
        options,
      );
      if (attachError !== undefined) throw attachError;
    } catch (error) {
      await system.close();
      throw error;
    }
    return system;
  }

  /**
   * Opens an existing compute system by id, from any process.
   * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsopencomputesystem
   */
  static async open(id: string, options?: CallOptions): Promise<ComputeSystem> {
    validateId(id);
    validateCallOptions(options);
    if (options?.signal?.aborted)
      throw new HcsError({
        hresult: HR.ERROR_CANCELLED,
        operation: 'HcsOpenComputeSystem',
        systemId: id,
        canceled: true,
        cause: options.signal.reason,
      });
    const { api } = hcsRuntime();
    const opened = await api.openComputeSystem(id, GENERIC_ALL);
    if (opened.hr < 0 || !opened.handle) {
      if (opened.handle) await api.closeComputeSystem(opened.handle);
      throw new HcsError({ hresult: opened.hr, operation: 'HcsOpenComputeSystem', systemId: id });
    }
    const system = new ComputeSystem(id);
    try {
      system.#attach(opened.handle);
    } catch (error) {
      await system.close(); // the handle is ours to close even though the object never escapes
      throw error;
    }
    return system;
  }

  /** The exit status once the system has stopped (from the SystemExited event). */
  get exitStatus(): SystemExitStatus | undefined {
    return this.#exitStatus;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Starts the system. Resolves when HCS reports it running. */
  start(options?: CallOptions): Promise<void> {
    return this.#lifecycle('HcsStartComputeSystem', null, 'LIFECYCLE', options);
  }

  /**
   * Asks the guest to shut down (needs a guest connection or the shutdown
   * integration service) and waits until the system has exited. A system that
   * already stopped counts as success.
   */
  async shutdown(
    options?: CallOptions & { shutdownOptions?: HcsDocument },
  ): Promise<SystemExitStatus | undefined> {
    return this.#stop('HcsShutDownComputeSystem', options?.shutdownOptions, 'LIFECYCLE', options);
  }

  /** Forcibly stops the system and waits until it has exited. Already stopped counts as success. */
  async terminate(options?: CallOptions): Promise<SystemExitStatus | undefined> {
    return this.#stop('HcsTerminateComputeSystem', null, 'TERMINATE', options);
  }

  /**
   * Injects a guest crash (`CrashOptions`, default `{"Type":"CrashGuest"}`); needs
   * Windows 10 2004+. Resolves when HCS accepted it; watch `events()` for the reports.
   */
  crash(options?: CallOptions & { crashOptions?: HcsDocument }): Promise<void> {
    return this.#lifecycle(
      'HcsCrashComputeSystem',
      options?.crashOptions ?? { Type: 'CrashGuest' },
      'TERMINATE',
      options,
    );
  }

  /** Pauses the system (`PauseOptions` optional). Resolves when it is paused. */
  pause(options?: CallOptions & { pauseOptions?: HcsDocument }): Promise<void> {
    return this.#lifecycle('HcsPauseComputeSystem', options?.pauseOptions ?? null, 'LIFECYCLE', options);
  }

  /** Resumes a paused system. Resolves when it is running again. */
  resume(options?: CallOptions): Promise<void> {
    return this.#lifecycle('HcsResumeComputeSystem', null, 'LIFECYCLE', options);
  }

  /** Saves a paused system (`SaveOptions`: SaveType, SaveStateFilePath). Resolves when saved. */
  save(saveOptions: HcsDocument, options?: CallOptions): Promise<void> {
    return this.#lifecycle('HcsSaveComputeSystem', saveOptions, 'LIFECYCLE', options);
  }

  /**
   * Reads properties; `query` is a `System_PropertyQuery` such as
   * `{ PropertyTypes: ['Statistics', 'ProcessList'] }`. Returns the parsed document.
   * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsgetcomputesystemproperties
   */
  async properties<T = Record<string, unknown>>(
    query?: HcsDocument | null,
    options?: CallOptions,
  ): Promise<T> {
    const text = serialise('query', query);
    const outcome = await this.#run('HcsGetComputeSystemProperties', text, 'QUERY', options);
    return (parseJson(outcome.document) ?? {}) as T;
  }

  /**
   * Applies a `ModifySettingRequest` (add a share, change memory, ...). Resolves
   * with the parsed result document, if HCS returned one.
   * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsmodifycomputesystem
   */
  async modify(request: HcsDocument, options?: CallOptions): Promise<unknown> {
    const text = serialise('request', request);
    if (text === null) throw new InvalidArgumentError('request', 'a ModifySettingRequest', request);
    validateCallOptions(options);
    const handle = this.#requireHandle();
    const outcome = await this.#track(
      runOperation(
        {
          name: 'HcsModifyComputeSystem',
          systemId: this.id,
          timeout: 'QUERY',
          call: (api, op) => api.modifyComputeSystem(handle, op, text, null),
        },
        { ...options, signal: this.#closeAware(options?.signal) },
      ),
    );
    return parseJson(outcome.document);
  }

  /** Resolves with the exit status when the system stops (at once if it already has). */
  waitForExit(options?: CallOptions): Promise<SystemExitStatus> {
    try {
      validateCallOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    // Settled by the exit event, or rejected on close (HandleClosedError) or disconnect.
    return waitWithin(this.#exited.promise, options, { operation: 'waitForExit', systemId: this.id });
  }

  /** Subscribes to this system's events; returns the unsubscribe function. */
  on(listener: (event: ComputeSystemEvent) => void): () => void {
    return this.#events.on(listener);
  }

  /** This system's events as an async iterator; ends when the handle is closed or `signal` aborts. */
  events(signal?: AbortSignal): AsyncGenerator<ComputeSystemEvent> {
    return this.#events.iterate(signal);
  }

  /**
   * Releases the handle: cancels operations still in flight and waits for them,
   * rejects `waitForExit()` waiters with {@link HandleClosedError}, then closes the
   * handle off the main thread. Idempotent. Does not stop the system (a system
   * created with `ShouldTerminateOnLastHandleClosed` stops when its last handle closes).
   */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  /** Terminates the system if it is still running, then closes the handle. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closing && this.#handle && !this.#exitStatus && !this.#disconnected) {
      await this.terminate().catch(() => undefined);
    }
    await this.close();
  }

  /** @internal The native handle, for HcsProcess. Throws when closed. */
  nativeHandle(): SystemHandle {
    return this.#requireHandle();
  }

  /** @internal A signal that also aborts when this system's handle is being closed. */
  closeAware(signal: AbortSignal | undefined): AbortSignal {
    return this.#closeAware(signal);
  }

  /** @internal Tracks an operation so close() can wait for it. */
  track<T>(promise: Promise<T>): Promise<T> {
    return this.#track(promise);
  }

  // -------------------------------------------------------------------------

  #attach(handle: SystemHandle): void {
    const { api, router } = hcsRuntime();
    this.#handle = handle;
    this.#eventsKey = router.addEvents((event) => this.#onEvent(event));
    this.#releaseLoop = holdEventLoop();
    const hr = api.setComputeSystemCallback(handle, HcsEventOptions.None, this.#eventsKey);
    if (hr < 0) {
      // Without events we cannot see the system exit; fail loudly rather than hang later.
      throw new HcsError({ hresult: hr, operation: 'HcsSetComputeSystemCallback', systemId: this.id });
    }
  }

  #onEvent(record: HcsEventRecord): void {
    const event = toSystemEvent(record);
    // State first, so a listener reacting to the event sees exitStatus / waitForExit settled.
    if (event.type === 'exited') {
      this.#exitStatus = event.status;
      this.#exited.resolve(event.status);
    } else if (event.type === 'serviceDisconnected') {
      this.#disconnected = true;
      this.#exited.reject(this.#disconnectedError());
    }
    this.#events.emit(event);
  }

  #disconnectedError(): HcsError {
    return new HcsError({
      hresult: HR.HCS_E_SERVICE_DISCONNECT,
      operation: 'waitForExit',
      systemId: this.id,
    });
  }

  #requireHandle(): SystemHandle {
    if (this.#closing || !this.#handle) throw new HandleClosedError(`Compute system ${this.id}`);
    return this.#handle;
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const forget = () => this.#inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  #run(
    name: SystemOperationName,
    options: string | null,
    timeout: TimeoutName,
    callOptions: CallOptions | undefined,
  ) {
    validateCallOptions(callOptions);
    const handle = this.#requireHandle();
    return this.#track(
      runOperation(
        {
          name,
          systemId: this.id,
          timeout,
          call: (api, op) => api.systemOperation(name, handle, op, options),
        },
        { ...callOptions, signal: this.#closeAware(callOptions?.signal) },
      ),
    );
  }

  async #lifecycle(
    name: SystemOperationName,
    document: HcsDocument | null | undefined,
    timeout: TimeoutName,
    options: CallOptions | undefined,
  ): Promise<void> {
    await this.#run(name, serialise('options', document), timeout, options);
  }

  async #stop(
    name: SystemOperationName,
    document: HcsDocument | null | undefined,
    timeout: TimeoutName,
    options: CallOptions | undefined,
  ): Promise<SystemExitStatus | undefined> {
    if (this.#exitStatus) return this.#exitStatus;
    try {
      await this.#run(name, serialise('options', document), timeout, options);
    } catch (error) {
      // hcsshim treats these as success: the system is already going away.
      if (!(error instanceof HcsError && (error.isAlreadyStopped() || error.isNotFound()))) throw error;
      return this.#exitStatus;
    }
    return this.waitForExit({ ...options, timeoutMs: options?.timeoutMs ?? defaultTimeout(timeout) });
  }

  #closeSignal = ComputeSystem.#closeController();

  /** Every operation in flight listens on it: any number is fine, not a leak. */
  static #closeController(): AbortController {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    return controller;
  }

  /** Operations in flight are cancelled when the handle is being closed. */
  #closeAware(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.#closeSignal.signal]) : this.#closeSignal.signal;
  }

  async #doClose(): Promise<void> {
    this.#closeSignal.abort(new HandleClosedError(`Compute system ${this.id}`));
    await Promise.allSettled([...this.#inFlight]);
    const closedError = new HandleClosedError(`Compute system ${this.id}`);
    this.#exited.reject(closedError);
    const handle = this.#handle;
    this.#handle = null;
    try {
      if (handle) {
        const { api, router } = hcsRuntime();
        // Closing unregisters the callback and waits for running ones: off the main thread.
        await api.closeComputeSystem(handle);
        if (this.#eventsKey !== undefined) router.removeEvents(this.#eventsKey);
      }
    } finally {
      this.#events.end();
      this.#releaseLoop?.();
    }
  }
}
