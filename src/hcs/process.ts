import { setMaxListeners } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError } from '../internal/errors.js';
import {
  GENERIC_ALL,
  HcsEventOptions,
  type HcsEventRecord,
  HcsEventType,
  type ProcessHandle,
  type ProcessInformation,
  type ProcessOperationName,
} from '../native/index.js';
import type { ComputeSystem, HcsDocument } from './compute-system.js';
import { HandleClosedError, HcsError } from './errors.js';
import { HR } from './hresults.js';
import { holdEventLoop } from './keepalive.js';
import { type CallOptions, runOperation, validateCallOptions } from './operation.js';
import { hcsRuntime } from './runtime.js';
import { deferred, waitWithin } from './wait.js';

/** `ProcessStatus`: the payload of ProcessExited and of HcsGetProcessProperties. */
export interface ProcessStatus {
  ProcessId?: number;
  Exited?: boolean;
  ExitCode?: number;
  LastWaitResult?: number;
}

/**
 * How a process ended. `exitCode` is the process's exit code (unsigned, e.g.
 * 0xC000013A after Ctrl-C), or -1 when HCS did not report one: the status has
 * no `ExitCode`, or its `LastWaitResult` is not 0. `LastWaitResult` is the
 * HRESULT of HCS's own wait for the exit; when it is not 0, `ExitCode` is not
 * valid, and hcsshim (internal/hcs/process.go waitBackground) likewise keeps
 * its exit code at -1 and logs the wait result.
 */
export interface ProcessExit {
  exitCode: number;
  /** `LastWaitResult` from the status (0 when absent): non-zero means HCS's wait failed. */
  lastWaitResult: number;
  status: ProcessStatus;
}

/** The exit code of a process whose exit HCS reported without one (hcsshim's value too). */
const UNKNOWN_EXIT_CODE = -1;

/** Console signals HCS can deliver (`ProcessSignal` in the schema). */
export type ProcessSignal = 'CtrlC' | 'CtrlBreak' | 'CtrlClose' | 'CtrlLogOff' | 'CtrlShutdown';
const SIGNALS: ReadonlySet<string> = new Set([
  'CtrlC',
  'CtrlBreak',
  'CtrlClose',
  'CtrlLogOff',
  'CtrlShutdown',
]);

function parse(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A process inside a compute system, held through an `HCS_PROCESS` handle, with
 * Node streams over its stdio pipes. The exit callback is registered as soon as
 * HCS returns the handle.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcscreateprocess
 */
export class HcsProcess implements AsyncDisposable {
  readonly system: ComputeSystem;
  #pid = 0;
  #handle: ProcessHandle | null = null;
  #eventsKey: number | undefined;
  #releaseLoop: (() => void) | undefined;
  /** Writable over the process's stdin pipe, when `CreateStdInPipe` was set. */
  stdin: Writable | null = null;
  /** Readable over stdout, when `CreateStdOutPipe` was set. */
  stdout: Readable | null = null;
  /** Readable over stderr, when `CreateStdErrPipe` was set. */
  stderr: Readable | null = null;
  #exit: ProcessExit | undefined;
  readonly #exited = deferred<ProcessExit>();
  #closing: Promise<void> | undefined;
  /** Aborted by close(): operations in flight on this handle are cancelled first. */
  readonly #closeSignal = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Resolves with the exit code when the process exits. */
  readonly exited: Promise<ProcessExit>;

  private constructor(system: ComputeSystem) {
    this.system = system;
    setMaxListeners(0, this.#closeSignal.signal);
    this.exited = this.#exited.promise;
  }

  get pid(): number {
    return this.#pid;
  }

  get exitCode(): number | undefined {
    return this.#exit?.exitCode;
  }

  /**
   * Starts a process from `ProcessParameters` (CommandLine, WorkingDirectory,
   * Environment, CreateStd*Pipe, EmulateConsole, ConsoleSize, User).
   * Resolves when it is running, with its streams attached.
   */
  static async create(
    system: ComputeSystem,
    parameters: HcsDocument,
    options?: CallOptions,
  ): Promise<HcsProcess> {
    const text = typeof parameters === 'string' ? parameters : JSON.stringify(parameters);
    if (typeof parameters !== 'string' && (parameters === null || typeof parameters !== 'object')) {
      throw new InvalidArgumentError('parameters', 'a ProcessParameters object or JSON string', parameters);
    }
    validateCallOptions(options);
    const systemHandle = system.nativeHandle();
    const process = new HcsProcess(system);
    let outcome: Awaited<ReturnType<typeof runOperation>>;
    // Thrown after HCS accepted the request, so it waits for the operation to
    // complete rather than abandoning it (and the pipes it will hand back).
    let attachError: unknown;
    try {
      outcome = await system.track(
        runOperation(
          {
            name: 'HcsCreateProcess',
            systemId: system.id,
            timeout: 'QUERY',
            withProcessInfo: true,
            call: (api, op) => {
              const created = api.createProcess(systemHandle, text, op);
              if (created.handle) {
                try {
                  process.#attach(created.handle);
                } catch (error) {
                  attachError = error;
                }
              }
              return created.hr;
            },
          },
          { ...options, signal: system.closeAware(options?.signal) },
        ),
      );
    } catch (error) {
      await process.close();
      throw error;
    }
    process.#adoptStreams(outcome.processInfo);
    if (attachError !== undefined) {
      // Without an exit callback the process cannot be managed: undo it.
      for (const stream of [process.stdin, process.stdout, process.stderr]) stream?.destroy();
      await process.terminate().catch(() => undefined);
      await process.close();
      throw attachError;
    }
    await process.#catchEarlyExit();
    return process;
  }

  /**
   * Opens a process that is already running in `system`, by pid (from any
   * process on the host). No streams: HCS hands stdio out once, at creation.
   * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsopenprocess
   */
  static async open(system: ComputeSystem, pid: number, options?: CallOptions): Promise<HcsProcess> {
    if (!Number.isInteger(pid) || pid <= 0 || pid > 0xffffffff) {
      throw new InvalidArgumentError('pid', 'a positive 32-bit integer', pid);
    }
    validateCallOptions(options);
    if (options?.signal?.aborted)
      throw new HcsError({
        hresult: HR.ERROR_CANCELLED,
        operation: 'HcsOpenProcess',
        systemId: system.id,
        processId: pid,
        canceled: true,
        cause: options.signal.reason,
      });
    const { api } = hcsRuntime();
    const opened = await api.openProcess(system.nativeHandle(), pid, GENERIC_ALL);
    if (opened.hr < 0 || !opened.handle) {
      if (opened.handle) await api.closeProcess(opened.handle);
      throw new HcsError({
        hresult: opened.hr,
        operation: 'HcsOpenProcess',
        systemId: system.id,
        processId: pid,
      });
    }
    const process = new HcsProcess(system);
    process.#pid = pid;
    try {
      process.#attach(opened.handle);
    } catch (error) {
      await process.close(); // the handle is ours to close even though the object never escapes
      throw error;
    }
    await process.#catchEarlyExit();
    return process;
  }

  /** Waits for the process to exit. */
  async wait(options?: CallOptions): Promise<ProcessExit> {
    validateCallOptions(options);
    return waitWithin(this.exited, options, {
      operation: 'wait',
      systemId: this.system.id,
      processId: this.#pid,
    });
  }

  /** Sends a console signal (Ctrl-C by default). */
  async signal(signal: ProcessSignal = 'CtrlC', options?: CallOptions): Promise<void> {
    if (!SIGNALS.has(signal)) throw new InvalidArgumentError('signal', [...SIGNALS].join(', '), signal);
    await this.#run('HcsSignalProcess', JSON.stringify({ Signal: signal }), options);
  }

  /**
   * Kills the process. A process that already exited counts as success
   * (hcsshim does the same), including one whose exit this terminate caused
   * and whose ProcessExited arrived before the terminate completed: HCS orders
   * events and completions in no particular way, and whoever closes the handle
   * on that exit cancels the terminate still in flight.
   */
  async terminate(options?: CallOptions): Promise<void> {
    if (this.#exit) return;
    try {
      await this.#run('HcsTerminateProcess', null, options);
    } catch (error) {
      // A terminate racing with exit reports access denied or already-stopped.
      if (error instanceof HcsError && (error.isAlreadyStopped() || error.isAccessDenied())) return;
      // The process exited while the terminate was in flight (and the handle
      // may have been closed under it): the goal is reached.
      if (this.#exit && !options?.signal?.aborted) return;
      throw error;
    }
  }

  /** Resizes the pseudo console (processes created with `EmulateConsole`). */
  async resizeConsole(width: number, height: number, options?: CallOptions): Promise<void> {
    for (const [field, value] of [
      ['width', width],
      ['height', height],
    ] as const) {
      if (!Number.isInteger(value) || value <= 0 || value > 0xffff) {
        throw new InvalidArgumentError(field, 'a whole number of character cells from 1 to 65535', value);
      }
    }
    await this.#run(
      'HcsModifyProcess',
      JSON.stringify({ Operation: 'ConsoleSize', ConsoleSize: { Height: height, Width: width } }),
      options,
    );
  }

  /** Ends stdin: closes our end of the pipe and tells HCS to close the process's. */
  async closeStdin(options?: CallOptions): Promise<void> {
    if (this.stdin && !this.stdin.writableEnded) {
      await new Promise<void>((resolve) => this.stdin?.end(resolve));
    }
    if (this.#exit) return;
    try {
      await this.#run(
        'HcsModifyProcess',
        JSON.stringify({ Operation: 'CloseHandle', CloseHandle: { Handle: 'StdIn' } }),
        options,
      );
    } catch (error) {
      if (!(error instanceof HcsError && error.isAlreadyStopped())) throw error;
    }
  }

  /** `ProcessStatus` from HCS. */
  async properties(options?: CallOptions): Promise<ProcessStatus> {
    const outcome = await this.#run('HcsGetProcessProperties', null, options);
    return (parse(outcome.document) ?? {}) as ProcessStatus;
  }

  /**
   * Releases the handle (not the process: it keeps running in its system).
   * Streams stay usable until they end. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  /** Kills the process if it still runs, then closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closing && this.#handle && !this.#exit) await this.terminate().catch(() => undefined);
    await this.close();
  }

  // -------------------------------------------------------------------------

  #attach(handle: ProcessHandle): void {
    const { api, router } = hcsRuntime();
    this.#handle = handle;
    this.#eventsKey = router.addEvents((event) => this.#onEvent(event));
    this.#releaseLoop = holdEventLoop();
    const hr = api.setProcessCallback(handle, HcsEventOptions.None, this.#eventsKey);
    if (hr < 0)
      throw new HcsError({ hresult: hr, operation: 'HcsSetProcessCallback', systemId: this.system.id });
  }

  #adoptStreams(info: ProcessInformation | undefined): void {
    if (!info) return;
    this.#pid = info.processId;
    const { kernel32 } = hcsRuntime();
    if (info.stdInput) this.stdin = kernel32.pipeWritable(info.stdInput);
    if (info.stdOutput) this.stdout = kernel32.pipeReadable(info.stdOutput);
    if (info.stdError) this.stderr = kernel32.pipeReadable(info.stdError);
  }

  /** A process can exit before its exit callback is in place: ask once. */
  async #catchEarlyExit(): Promise<void> {
    if (this.#exit) return;
    try {
      const status = await this.properties();
      if (status.Exited) this.#settleExit(status);
    } catch {
      // The exit event will still tell us.
    }
  }

  #onEvent(event: HcsEventRecord): void {
    if (event.type === HcsEventType.ProcessExited) {
      const status = (parse(event.eventData) ?? {}) as ProcessStatus;
      if (!this.#pid && status.ProcessId) this.#pid = status.ProcessId;
      this.#settleExit(status);
    } else if (event.type === HcsEventType.ServiceDisconnect) {
      const error = new HcsError({
        hresult: HR.HCS_E_SERVICE_DISCONNECT,
        operation: 'wait',
        processId: this.#pid,
      });
      this.#exited.reject(error);
    }
  }

  #settleExit(status: ProcessStatus): void {
    if (this.#exit) return;
    const lastWaitResult = typeof status.LastWaitResult === 'number' ? status.LastWaitResult | 0 : 0;
    // ExitCode is valid only when LastWaitResult is 0 (HCS-NOTES, HcsEventProcessExited).
    const exitCode =
      typeof status.ExitCode === 'number' && lastWaitResult === 0 ? status.ExitCode >>> 0 : UNKNOWN_EXIT_CODE;
    this.#exit = { exitCode, lastWaitResult, status };
    this.#exited.resolve(this.#exit);
  }

  #run(name: ProcessOperationName, options: string | null, callOptions: CallOptions | undefined) {
    validateCallOptions(callOptions);
    if (this.#closing || !this.#handle) throw new HandleClosedError(`Process ${this.#pid}`);
    const handle = this.#handle;
    // Cancelled when this process or its system is closed, so neither handle closes under it.
    const signal = this.system.closeAware(
      callOptions?.signal
        ? AbortSignal.any([callOptions.signal, this.#closeSignal.signal])
        : this.#closeSignal.signal,
    );
    const promise = this.system.track(
      runOperation(
        {
          name,
          systemId: this.system.id,
          processId: this.#pid,
          timeout: 'QUERY',
          call: (api, op) => api.processOperation(name, handle, op, options),
        },
        { ...callOptions, signal },
      ),
    );
    this.#inFlight.add(promise);
    const forget = () => this.#inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  async #doClose(): Promise<void> {
    const closed = new HandleClosedError(`Process ${this.#pid}`);
    this.#closeSignal.abort(closed);
    await Promise.allSettled([...this.#inFlight]);
    this.#exited.reject(closed);
    const handle = this.#handle;
    this.#handle = null;
    try {
      if (handle) {
        const { api, router } = hcsRuntime();
        await api.closeProcess(handle);
        if (this.#eventsKey !== undefined) router.removeEvents(this.#eventsKey);
      }
    } finally {
      this.#releaseLoop?.();
    }
  }
}
