import type { LibraryHandle } from 'koffi';
import { type GuidStruct, guidFromStruct } from '../shared/guid.js';
import { type KoffiFunction, koffi } from '../shared/koffi-module.js';
import { loadSystemLibrary } from '../shared/library.js';
import type { HResult, Win32Handle } from '../shared/types.js';

/**
 * The few raw host facts the probe (src/probe) measures and nothing else in
 * hcs-sandbox needs: the GUID vmcompute gives a layer name, what kind of
 * handle HCS hands out for stdio, our own handle count and token elevation,
 * and whether this is Wine. Each is a plain question to a system DLL; none
 * changes the host.
 */
export interface HostFactsApi {
  /**
   * `vmcompute.dll!NameToGuid(name, &guid)`: undocumented; hcsshim binds it the
   * same way (internal/wclayer/nametoguid.go, zsyscall_windows.go:453). Runs off
   * the main thread. Throws HcsUnavailableError when vmcompute.dll is missing.
   */
  nameToGuid(name: string): Promise<{ hr: HResult; guid: string | null }>;
  /** `GetFileType` and, for a pipe, `GetNamedPipeInfo` of a handle (null when it is no named pipe). */
  handleKind(handle: Win32Handle): HandleKind;
  /** `GetProcessHandleCount` of this process, or null if it cannot be measured. */
  processHandleCount(): number | null;
  /** `TokenElevation` of this process's token, or null if it cannot be read. */
  tokenElevated(): boolean | null;
  /** `ntdll.dll!wine_get_version()` when running under Wine, else null. */
  wineVersion(): string | null;
}

/** What `GetFileType`/`GetNamedPipeInfo` say about a handle. */
export interface HandleKind {
  /** FILE_TYPE_DISK 1, FILE_TYPE_CHAR 2, FILE_TYPE_PIPE 3, FILE_TYPE_UNKNOWN 0. */
  fileType: number;
  /** GetNamedPipeInfo's answer; anonymous pipes answer too (they are named pipes without a name). */
  pipe: { flags: number; outBufferSize: number; inBufferSize: number; maxInstances: number } | null;
}

const TOKEN_QUERY = 0x0008;
/** TOKEN_INFORMATION_CLASS.TokenElevation. */
const TOKEN_ELEVATION = 20;

class KoffiHostFacts implements HostFactsApi {
  #vmcompute: KoffiFunction | undefined;
  #guidType: unknown;
  #k32: Record<string, KoffiFunction> | undefined;
  #advapi: Record<string, KoffiFunction> | undefined;

  #kernel32(): Record<string, KoffiFunction> {
    if (this.#k32) return this.#k32;
    const lib = loadSystemLibrary('kernel32.dll');
    this.#k32 = {
      GetFileType: lib.func('uint32 GetFileType(void *hFile)'),
      GetNamedPipeInfo: lib.func(
        'int GetNamedPipeInfo(void *hNamedPipe, _Out_ uint32 *flags, _Out_ uint32 *outSize, _Out_ uint32 *inSize, _Out_ uint32 *maxInstances)',
      ),
      GetProcessHandleCount: lib.func('int GetProcessHandleCount(void *hProcess, _Out_ uint32 *count)'),
      GetCurrentProcess: lib.func('void *GetCurrentProcess()'),
      CloseHandle: lib.func('int CloseHandle(void *h)'),
    };
    return this.#k32;
  }

  nameToGuid(name: string): Promise<{ hr: HResult; guid: string | null }> {
    let fn: KoffiFunction;
    try {
      if (!this.#vmcompute) {
        this.#guidType ??= koffi().struct('PROBE_GUID', {
          Data1: 'uint32',
          Data2: 'uint16',
          Data3: 'uint16',
          Data4: koffi().array('uint8', 8),
        });
        const lib: LibraryHandle = loadSystemLibrary('vmcompute.dll');
        this.#vmcompute = lib.func('int32 NameToGuid(const char16_t *name, _Out_ PROBE_GUID *guid)');
      }
      fn = this.#vmcompute;
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const guid = {} as GuidStruct;
      fn.async(name, guid, (error: unknown, hr: HResult) => {
        if (error) reject(error);
        else resolve({ hr, guid: hr >= 0 ? guidFromStruct(guid) : null });
      });
    });
  }

  handleKind(handle: Win32Handle): HandleKind {
    const k = this.#kernel32();
    const fileType = k.GetFileType!(handle) as number;
    const flags = [0];
    const out = [0];
    const inn = [0];
    const max = [0];
    const ok = fileType === 3 && (k.GetNamedPipeInfo!(handle, flags, out, inn, max) as number) !== 0;
    return {
      fileType,
      pipe: ok
        ? { flags: flags[0]!, outBufferSize: out[0]!, inBufferSize: inn[0]!, maxInstances: max[0]! }
        : null,
    };
  }

  processHandleCount(): number | null {
    const k = this.#kernel32();
    const count = [0];
    const ok = (k.GetProcessHandleCount!(k.GetCurrentProcess!(), count) as number) !== 0;
    // A live process always holds handles: 0 means the call is a stub (Wine's is).
    return ok && count[0]! > 0 ? count[0]! : null;
  }

  tokenElevated(): boolean | null {
    const k = this.#kernel32();
    this.#advapi ??= (() => {
      const lib = loadSystemLibrary('advapi32.dll');
      return {
        OpenProcessToken: lib.func('int OpenProcessToken(void *process, uint32 access, _Out_ void **token)'),
        GetTokenInformation: lib.func(
          'int GetTokenInformation(void *token, int cls, _Out_ uint32 *info, uint32 length, _Out_ uint32 *returned)',
        ),
      };
    })();
    const token: [unknown] = [null];
    if ((this.#advapi.OpenProcessToken!(k.GetCurrentProcess!(), TOKEN_QUERY, token) as number) === 0)
      return null;
    try {
      const elevation = [0];
      const returned = [0];
      const ok = this.#advapi.GetTokenInformation!(
        token[0],
        TOKEN_ELEVATION,
        elevation,
        4,
        returned,
      ) as number;
      return ok !== 0 ? elevation[0] !== 0 : null;
    } finally {
      k.CloseHandle!(token[0]);
    }
  }

  wineVersion(): string | null {
    try {
      const fn = loadSystemLibrary('ntdll.dll').func('const char *wine_get_version()');
      return fn() as string;
    } catch {
      return null; // not exported: a real Windows host
    }
  }
}

let instance: HostFactsApi | undefined;

/** The host-fact bindings, created on first use (importing never loads a DLL). */
export function hostFacts(): HostFactsApi {
  instance ??= new KoffiHostFacts();
  return instance;
}

/** Replaces the host-fact bindings (tests), or resets to the real ones with `undefined`. */
export function setHostFacts(api: HostFactsApi | undefined): void {
  instance = api;
}
