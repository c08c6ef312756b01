import { kernel32 } from '../shared/kernel32.js';
import type { Kernel32Api } from '../shared/types.js';
import { KoffiComputeCore } from './computecore.js';
import type { ComputeCoreApi } from './types.js';

/** What the HCS layer gets from the native layer. */
export interface NativeBindings {
  computeCore: ComputeCoreApi;
  kernel32: Kernel32Api;
}

let current: NativeBindings | undefined;

/**
 * The native bindings, created on first use (so importing hcs-sandbox never
 * loads a DLL). This is the factory seam node-pty uses: unit tests install an
 * in-memory implementation with {@link setNativeBindings}.
 */
export function nativeBindings(): NativeBindings {
  current ??= { computeCore: new KoffiComputeCore(), kernel32: kernel32() };
  return current;
}

/** Replaces the native bindings (tests), or resets to the real ones with `undefined`. */
export function setNativeBindings(bindings: NativeBindings | undefined): void {
  current = bindings;
}
