import { nativeBindings } from '../native/core/provider.js';
import type {
  CallbackSink,
  ComputeCoreApi,
  HcsEventRecord,
  Kernel32Api,
  OperationHandle,
} from '../native/index.js';

type CompletionListener = (operation: OperationHandle) => void;
type EventListener = (event: HcsEventRecord) => void;

/**
 * Routes native callbacks to the JavaScript object they belong to. Each
 * operation and each event registration gets an integer key; the key, never a
 * pointer, is what HCS carries as callback context (hcsshim's
 * notification.go). Keys are never reused, so a late callback for a closed
 * registration finds nothing and is dropped.
 */
class CallbackRouter implements CallbackSink {
  #nextKey = 1;
  readonly #completions = new Map<number, CompletionListener>();
  readonly #events = new Map<number, EventListener>();

  addCompletion(listener: CompletionListener): number {
    const key = this.#nextKey++;
    this.#completions.set(key, listener);
    return key;
  }

  removeCompletion(key: number): void {
    this.#completions.delete(key);
  }

  addEvents(listener: EventListener): number {
    const key = this.#nextKey++;
    this.#events.set(key, listener);
    return key;
  }

  removeEvents(key: number): void {
    this.#events.delete(key);
  }

  operationCompleted(key: number, operation: OperationHandle): void {
    const listener = this.#completions.get(key);
    if (!listener) return;
    this.#completions.delete(key); // a completion fires once
    listener(operation);
  }

  eventReceived(key: number, event: HcsEventRecord): void {
    this.#events.get(key)?.(event);
  }

  /** Outstanding registrations, for leak tests. */
  get size(): { completions: number; events: number } {
    return { completions: this.#completions.size, events: this.#events.size };
  }
}

export interface HcsRuntime {
  api: ComputeCoreApi;
  kernel32: Kernel32Api;
  router: CallbackRouter;
}

let runtime: HcsRuntime | undefined;

/** The native API with our callback router installed; created on first use. */
export function hcsRuntime(): HcsRuntime {
  const bindings = nativeBindings();
  if (!runtime || runtime.api !== bindings.computeCore) {
    const router = new CallbackRouter();
    bindings.computeCore.setCallbackSink(router);
    runtime = { api: bindings.computeCore, kernel32: bindings.kernel32, router };
  }
  return runtime;
}

/** The runtime if it exists, without creating it (diagnostics must not load a DLL). */
export function existingRuntime(): HcsRuntime | undefined {
  return runtime;
}
