import type { Readable, Writable } from 'node:stream';

/**
 * The types every DLL family shares: HRESULTs, kernel32 handles, and the brand
 * that keeps one kind of handle from passing for another. Nothing here
 * mentions koffi, so no koffi type leaks above native/.
 */

declare const brand: unique symbol;
/** A pointer-sized handle that the type checker tells apart from other handles. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A kernel32 `HANDLE` (pipe ends from `HCS_PROCESS_INFORMATION`, job objects, ...). */
export type Win32Handle = Brand<bigint, 'HANDLE'>;

/** An HRESULT as a signed 32-bit integer, exactly as the DLL returned it. */
export type HResult = number;

/** The kernel32 pieces the HCS layer needs around computecore. */
export interface Kernel32Api {
  closeHandle(handle: Win32Handle): boolean;
  /**
   * Wraps the read end of a pipe in a Node stream, without a thread per stream.
   * The stream owns the handle from then on: destroying it closes the handle.
   */
  pipeReadable(handle: Win32Handle): Readable;
  /** Wraps the write end of a pipe; ending the stream closes the handle (EOF for the reader). */
  pipeWritable(handle: Win32Handle): Writable;
}
