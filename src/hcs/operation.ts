import { InvalidArgumentError } from '../internal/errors.js';
import type { ComputeCoreApi, HResult, OperationHandle, ProcessInformation } from '../native/index.js';
import { HcsError } from './errors.js';
import { HR, isFailure } from './hresults.js';
import { holdEventLoop } from './keepalive.js';
import { hcsRuntime } from './runtime.js';
import { defaultTimeout, type TimeoutName } from './timeouts.js';

/** Every asynchronous method takes these. */
export interface CallOptions {
  /** Aborting asks HCS to cancel the operation (see {@link runOperation}). */
  signal?: AbortSignal | undefined;
  /** How long to wait for HCS before cancelling; defaults live in `timeouts.ts`. */
  timeoutMs?: number | undefined;
}

export interface OperationRequest {
  /** The HCS function, for errors (`HcsStartComputeSystem`). */
  name: string;
  systemId?: string | undefined;
  processId?: number | undefined;
  timeout: TimeoutName;
  /** Collect `HCS_PROCESS_INFORMATION` too (HcsCreateProcess, HcsGetProcessInfo). */
  withProcessInfo?: boolean;
  /** Makes the HCS call with the operation; returns its HRESULT. */
  call(api: ComputeCoreApi, operation: OperationHandle): HResult;
}

export interface OperationOutcome {
  document: string | null;
  processInfo?: ProcessInformation | undefined;
}

interface Captured extends OperationOutcome {
  hr: HResult;
}

export function validateCallOptions(options: CallOptions | undefined): void {
  if (!options) return;
  if (options.timeoutMs !== undefined) {
    if (
      typeof options.timeoutMs !== 'number' ||
      !Number.isFinite(options.timeoutMs) ||
      options.timeoutMs <= 0
    ) {
      throw new InvalidArgumentError('timeoutMs', 'a positive number of milliseconds', options.timeoutMs);
    }
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', 'an AbortSignal', options.signal);
  }
}

/**
 * The one choke point for every asynchronous HCS call: create the operation,
 * make the call, wait for the completion callback (never a blocking wait on the
 * main thread, never a thread-pool thread parked while HCS works), turn a
 * failure and its ResultError document into an {@link HcsError}, close the
 * operation.
 *
 * On abort or timeout it calls `HcsCancelOperation` and keeps waiting for the
 * completion, so nothing is released while HCS may still use it. If HCS has not
 * completed within the cancel grace period (builds where cancel is not
 * implemented), the operation is abandoned by closing it, which the HCS v2
 * contract allows: HCS finishes the work and discards the result. If HCS
 * completes successfully despite the cancel, the call resolves: the work was done.
 */
export async function runOperation(
  request: OperationRequest,
  options: CallOptions = {},
): Promise<OperationOutcome> {
  validateCallOptions(options);
  const { signal } = options;
  const errorBase = { operation: request.name, systemId: request.systemId, processId: request.processId };
  if (signal?.aborted)
    throw new HcsError({ ...errorBase, hresult: HR.ERROR_CANCELLED, canceled: true, cause: signal.reason });

  const { api, router } = hcsRuntime();
  const release = holdEventLoop();
  let captured: Captured | undefined;
  let completed!: () => void;
  const completion = new Promise<'done'>((resolve) => {
    completed = () => resolve('done');
  });
  const key = router.addCompletion((op) => {
    // Runs on the main thread inside the HCS callback; collecting the result is
    // non-blocking and must happen before the operation is closed.
    if (request.withProcessInfo) {
      const result = api.getOperationResultAndProcessInfo(op);
      captured = { hr: result.hr, document: result.document, processInfo: result.processInfo };
    } else {
      const result = api.getOperationResult(op);
      captured = { hr: result.hr, document: result.document };
    }
    completed();
  });

  let operation: OperationHandle | null = null;
  try {
    operation = api.createOperation(key);
    if (!operation)
      throw new HcsError({ ...errorBase, operation: 'HcsCreateOperation', hresult: HR.E_OUTOFMEMORY });

    const accepted = request.call(api, operation);
    if (isFailure(accepted)) {
      // Rejected up front; HCS may still have attached a ResultError (hcsshim reads it too).
      router.removeCompletion(key);
      const late = api.getOperationResult(operation);
      throw new HcsError({ ...errorBase, hresult: accepted, document: late.document });
    }

    const stop = stopSignal(options.timeoutMs ?? defaultTimeout(request.timeout), signal);
    let outcome: 'done' | 'stop' | 'abandon' = await Promise.race([completion, stop.promise]);
    if (outcome === 'stop') {
      api.cancelOperation(operation); // best effort: E_NOTIMPL on builds without cancel
      const grace = delay(defaultTimeout('CANCEL_GRACE'), 'abandon' as const);
      outcome = await Promise.race([completion, grace.promise]);
      grace.clear(); // a pending grace timer would keep the process alive for nothing
    }
    stop.dispose();

    const stopped = stop.reason();
    if (outcome === 'abandon' || !captured) {
      throw new HcsError({
        ...errorBase,
        hresult: stopped === 'timeout' ? HR.HCS_E_OPERATION_TIMEOUT : HR.ERROR_CANCELLED,
        timedOut: stopped === 'timeout',
        canceled: stopped === 'abort',
        cause: stopped === 'abort' ? signal?.reason : undefined,
      });
    }
    if (isFailure(captured.hr)) {
      closeProcessHandles(captured.processInfo);
      throw new HcsError({
        ...errorBase,
        hresult: captured.hr,
        document: captured.document,
        timedOut: stopped === 'timeout',
        canceled: stopped === 'abort',
        cause: stopped === 'abort' ? signal?.reason : undefined,
      });
    }
    return { document: captured.document, processInfo: captured.processInfo };
  } finally {
    router.removeCompletion(key);
    if (operation) await api.closeOperation(operation).catch(() => undefined);
    release();
  }
}

function closeProcessHandles(info: ProcessInformation | undefined): void {
  if (!info) return;
  const { kernel32 } = hcsRuntime();
  for (const handle of [info.stdInput, info.stdOutput, info.stdError])
    if (handle) kernel32.closeHandle(handle);
}

function stopSignal(timeoutMs: number, signal: AbortSignal | undefined) {
  let reason: 'timeout' | 'abort' | undefined;
  let fire!: () => void;
  const promise = new Promise<'stop'>((resolve) => {
    fire = () => resolve('stop');
  });
  const timer = setTimeout(() => {
    reason ??= 'timeout';
    fire();
  }, timeoutMs);
  const onAbort = () => {
    reason ??= 'abort';
    fire();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    promise,
    reason: () => reason,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

function delay<T>(ms: number, value: T): { promise: Promise<T>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(value), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}
