import { koffi, type Pointer } from '../shared/koffi-module.js';
import { computeCoreType } from '../shared/koffi-types.js';
import { nonNull, pointerToKey } from './marshal.js';
import type { CallbackSink, HcsEventRecord, OperationHandle } from './types.js';

/** koffi callback slots this process holds (limited by koffi); stays at most 2. */
let callbackSlots = 0;
export function nativeCallbackSlots(): number {
  return callbackSlots;
}

/**
 * The two C callbacks computecore calls back into (operation completion and
 * events), each registered with koffi on first use and forwarded to the
 * {@link CallbackSink}. One registered callback per callback type for the life
 * of the process; the context is an integer key, never a live pointer (koffi's
 * slots are limited).
 */
export class ComputeCoreCallbacks {
  #sink: CallbackSink | undefined;
  #completionCallback: bigint | undefined;
  #eventCallback: bigint | undefined;

  setSink(sink: CallbackSink): void {
    this.#sink = sink;
  }

  /** The `HCS_OPERATION_COMPLETION` pointer every operation is created with. */
  completion(): bigint {
    if (!this.#completionCallback) {
      const prototype = computeCoreType('HCS_OPERATION_COMPLETION');
      callbackSlots++;
      this.#completionCallback = koffi().register((operation: Pointer, context: Pointer) => {
        try {
          this.#sink?.operationCompleted(pointerToKey(context), operation as OperationHandle);
        } catch (error) {
          reportCallbackError('operation completion', error);
        }
      }, koffi().pointer(prototype));
    }
    return this.#completionCallback;
  }

  /** The `HCS_EVENT_CALLBACK` pointer for systems and processes. */
  event(): bigint {
    if (!this.#eventCallback) {
      const HCS_EVENT = computeCoreType('HCS_EVENT');
      const prototype = computeCoreType('HCS_EVENT_CALLBACK');
      callbackSlots++;
      this.#eventCallback = koffi().register((eventPtr: Pointer, context: Pointer) => {
        try {
          if (eventPtr === null) return;
          const raw = koffi().decode(eventPtr, HCS_EVENT) as {
            Type: number;
            EventData: Pointer;
            Operation: Pointer;
          };
          const record: HcsEventRecord = {
            type: raw.Type >>> 0,
            // Valid only during this call, and owned by HCS: copy, never free.
            eventData: raw.EventData ? koffi().decode.string16(raw.EventData) : null,
            operation: nonNull(raw.Operation) as OperationHandle | null,
          };
          this.#sink?.eventReceived(pointerToKey(context), record);
        } catch (error) {
          reportCallbackError('event', error);
        }
      }, koffi().pointer(prototype));
    }
    return this.#eventCallback;
  }
}

function reportCallbackError(kind: string, error: unknown): void {
  // Never let an exception reach C; surface it where a developer will see it.
  process.emitWarning(
    `hcs-sandbox: a native ${kind} callback failed: ${(error as Error)?.stack ?? String(error)}`,
  );
}
