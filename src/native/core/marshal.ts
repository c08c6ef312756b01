import type { Pointer } from '../shared/koffi-module.js';
import type { Win32Handle } from '../shared/types.js';
import type { ProcessInformation } from './types.js';

/** An empty out-pointer (null, 0n or never written) as `null`. */
export function nonNull(pointer: Pointer | undefined): bigint | null {
  return pointer ? pointer : null;
}

const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;

function stdHandle(value: unknown): Win32Handle | null {
  if (typeof value !== 'bigint' || value === 0n) return null;
  // hcsshim treats both NULL and INVALID_HANDLE_VALUE as "no stream".
  if (BigInt.asUintN(64, value) === INVALID_HANDLE_VALUE) return null;
  return value as Win32Handle;
}

/** Reads the `HCS_PROCESS_INFORMATION` koffi decoded into `info`. */
export function toProcessInformation(info: Record<string, unknown>): ProcessInformation {
  return {
    processId: Number(info.ProcessId ?? 0),
    stdInput: stdHandle(info.StdInput),
    stdOutput: stdHandle(info.StdOutput),
    stdError: stdHandle(info.StdError),
  };
}

/** The integer key a callback context or operation context carries (never a live pointer). */
export function pointerToKey(pointer: Pointer | number): number {
  if (pointer === null) return 0;
  return Number(pointer);
}
