import type { LibraryHandle } from 'koffi';
import { builtin } from '../../internal/lazy-dependency.js';
import { koffi, type Pointer } from './koffi-module.js';
import { loadSystemLibrary } from './library.js';
import type { Kernel32Api, Win32Handle } from './types.js';

interface Kernel32Functions extends Kernel32Api {
  localFree(pointer: bigint): void;
}

let instance: Kernel32Functions | undefined;
let uvOpenOsfhandle: ReturnType<LibraryHandle['func']> | undefined;

/**
 * Wraps a HANDLE in a C-runtime descriptor of node.exe's own C runtime, which
 * node:fs and net.Socket accept. node.exe exports libuv (addons link against
 * it), so uv_open_osfhandle is reachable through koffi. The descriptor owns the
 * handle from then on: closing it closes the handle.
 */
export function handleToFd(handle: Win32Handle): number {
  uvOpenOsfhandle ??= koffi().load(process.execPath).func('int uv_open_osfhandle(void *os_fd)');
  const fd = uvOpenOsfhandle(handle) as number;
  if (fd < 0) throw new Error(`uv_open_osfhandle failed (${fd}) for handle 0x${handle.toString(16)}`);
  return fd;
}

/** The kernel32 functions hcs-sandbox uses, bound on first use. */
export function kernel32(): Kernel32Functions {
  if (instance) return instance;
  const lib = loadSystemLibrary('kernel32.dll');
  const LocalFree = lib.func('void *LocalFree(void *hMem)');
  const CloseHandle = lib.func('int CloseHandle(void *hObject)');
  // A pipe's descriptor that net.Socket adopts: reads of a non-overlapped pipe
  // then run on the Windows thread pool, not libuv's, so many streams do not
  // starve it (TEST-HOST.md).
  const toFd = handleToFd;
  instance = {
    localFree: (pointer) => {
      LocalFree(pointer);
    },
    closeHandle: (handle) => CloseHandle(handle) !== 0,
    pipeReadable: (handle) =>
      new (builtin('node:net').Socket)({ fd: toFd(handle), readable: true, writable: false }),
    pipeWritable: (handle) =>
      new (builtin('node:net').Socket)({ fd: toFd(handle), readable: false, writable: true }),
  };
  return instance;
}

/** Decodes a string an HCS DLL allocated and frees it with LocalFree, as documented. */
export function takeLocalString(pointer: Pointer): string | null {
  if (!pointer) return null;
  try {
    return koffi().decode.string16(pointer);
  } finally {
    kernel32().localFree(pointer);
  }
}
