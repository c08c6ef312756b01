import { nativeCallbackSlots } from '../native/index.js';
import { eventLoopHolders } from './keepalive.js';
import { existingRuntime } from './runtime.js';

/** What the HCS layer holds right now: all zero (and at most 2 slots) when idle. */
export interface HcsDiagnostics {
  /** Operations and event registrations keeping the event loop alive. */
  eventLoopHolders: number;
  /** Operations whose completion callback has not arrived. */
  pendingOperations: number;
  /** Open system and process handles with a registered event callback. */
  eventRegistrations: number;
  /** koffi callback slots in use: one per callback type, for the life of the process. */
  nativeCallbackSlots: number;
}

/** A snapshot for leak checks and `--debug` output. Never loads a DLL. */
export function hcsDiagnostics(): HcsDiagnostics {
  const size = existingRuntime()?.router.size ?? { completions: 0, events: 0 };
  return {
    eventLoopHolders: eventLoopHolders(),
    pendingOperations: size.completions,
    eventRegistrations: size.events,
    nativeCallbackSlots: nativeCallbackSlots(),
  };
}
