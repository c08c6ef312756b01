import type { TypeObject } from 'koffi';
import { Win32CallError } from '../jobs/errors.js';
import { type KoffiFunction, koffi, type Pointer } from '../shared/koffi-module.js';
import { loadSystemLibrary } from '../shared/library.js';
import {
  ADVAPI32_PROTOTYPES,
  FILE_SECURITY_PROTOTYPES,
  type FileSecurityFunctionName,
} from './prototypes.js';
import type { FileSecurityApi, FileSecurityInfo } from './types.js';

/** SECURITY_INFORMATION bits (winnt.h). */
const OWNER_SECURITY_INFORMATION = 0x1;
const DACL_SECURITY_INFORMATION = 0x4;
const PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000;
const SDDL_REVISION_1 = 1;
const TOKEN_QUERY = 0x8;
/** TOKEN_INFORMATION_CLASS TokenUser: a TOKEN_USER, whose first field points at the SID. */
const TokenUser = 1;
const ERROR_INSUFFICIENT_BUFFER = 122;
const ERROR_ALREADY_EXISTS = 183;

let attributesType: TypeObject | undefined;

/** SECURITY_ATTRIBUTES (minwinbase.h), declared once (koffi names are global). */
function securityAttributes(): TypeObject {
  attributesType ??= koffi().struct('SECURITY_ATTRIBUTES', {
    nLength: 'uint32',
    lpSecurityDescriptor: 'void *',
    bInheritHandle: 'int',
  });
  return attributesType;
}

type Kernel32Name = 'GetLastError' | 'GetCurrentProcess' | 'CloseHandle' | 'LocalFree' | 'CreateDirectoryW';

/**
 * advapi32.dll (and kernel32's CreateDirectoryW) through koffi, for the
 * security descriptor of the store root. Synchronous, main thread:
 * `GetLastError` is read straight after each call. Every buffer Windows
 * allocates (`LocalAlloc`) is freed with `LocalFree` in a `finally`.
 * https://learn.microsoft.com/windows/win32/api/securitybaseapi/nf-securitybaseapi-getfilesecurityw
 */
export class KoffiFileSecurity implements FileSecurityApi {
  readonly #f: Record<FileSecurityFunctionName | 'OpenProcessToken' | 'GetTokenInformation', KoffiFunction>;
  readonly #k32: Record<Kernel32Name, KoffiFunction>;

  constructor() {
    const k = koffi();
    const lib = loadSystemLibrary('advapi32.dll');
    const k32 = loadSystemLibrary('kernel32.dll');
    this.#f = {
      ...(Object.fromEntries(
        Object.entries(FILE_SECURITY_PROTOTYPES).map(([name, p]) => [name, lib.func(p.signature)]),
      ) as Record<FileSecurityFunctionName, KoffiFunction>),
      OpenProcessToken: lib.func(ADVAPI32_PROTOTYPES.OpenProcessToken.signature),
      GetTokenInformation: lib.func(ADVAPI32_PROTOTYPES.GetTokenInformation.signature),
    };
    this.#attributesSize = k.sizeof(securityAttributes());
    this.#k32 = {
      GetLastError: k32.func('uint32 GetLastError()'),
      GetCurrentProcess: k32.func('void *GetCurrentProcess()'),
      CloseHandle: k32.func('int CloseHandle(void *hObject)'),
      LocalFree: k32.func('void *LocalFree(void *hMem)'),
      CreateDirectoryW: k32.func(
        'int CreateDirectoryW(const char16_t *lpPathName, SECURITY_ATTRIBUTES *lpSecurityAttributes)',
      ),
    };
  }

  readonly #attributesSize: number;

  #fail(name: string, detail?: string): never {
    throw new Win32CallError(name, this.#k32.GetLastError!() as number, detail);
  }

  /** A string Windows allocated, decoded then freed. */
  #takeString(pointer: Pointer): string {
    try {
      return koffi().decode(pointer, 'char16_t', -1) as string;
    } finally {
      this.#k32.LocalFree!(pointer);
    }
  }

  /** Runs `use` with the self-relative descriptor SDDL `sddl` converts to. */
  #withDescriptor<T>(sddl: string, use: (descriptor: Pointer) => T): T {
    const out: [Pointer] = [null];
    const size: [number] = [0];
    if (!this.#f.ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, out, size)) {
      this.#fail('ConvertStringSecurityDescriptorToSecurityDescriptorW', sddl);
    }
    try {
      return use(out[0]);
    } finally {
      this.#k32.LocalFree!(out[0]);
    }
  }

  #sidString(sid: Pointer | Buffer, what: string): string {
    const out: [Pointer] = [null];
    if (!this.#f.ConvertSidToStringSidW(sid, out)) this.#fail('ConvertSidToStringSidW', what);
    return this.#takeString(out[0]);
  }

  read(path: string): FileSecurityInfo {
    const info = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    let buffer = Buffer.alloc(1024);
    const needed: [number] = [0];
    if (!this.#f.GetFileSecurityW(path, info, buffer, buffer.length, needed)) {
      if (this.#k32.GetLastError!() !== ERROR_INSUFFICIENT_BUFFER) this.#fail('GetFileSecurityW', path);
      buffer = Buffer.alloc(needed[0]);
      if (!this.#f.GetFileSecurityW(path, info, buffer, buffer.length, needed)) {
        this.#fail('GetFileSecurityW', path);
      }
    }
    const owner: [Pointer] = [null];
    const defaulted: [number] = [0];
    if (!this.#f.GetSecurityDescriptorOwner(buffer, owner, defaulted) || !owner[0]) {
      this.#fail('GetSecurityDescriptorOwner', path);
    }
    const text: [Pointer] = [null];
    const length: [number] = [0];
    if (
      !this.#f.ConvertSecurityDescriptorToStringSecurityDescriptorW(
        buffer,
        SDDL_REVISION_1,
        info,
        text,
        length,
      )
    ) {
      this.#fail('ConvertSecurityDescriptorToStringSecurityDescriptorW', path);
    }
    // `owner[0]` points into `buffer`, alive until this function returns.
    return { owner: this.#sidString(owner[0], path), sddl: this.#takeString(text[0]) };
  }

  createDirectory(path: string, sddl: string): boolean {
    return this.#withDescriptor(sddl, (descriptor) => {
      const attributes = {
        nLength: this.#attributesSize,
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
      };
      if (this.#k32.CreateDirectoryW!(path, attributes)) return true;
      if (this.#k32.GetLastError!() === ERROR_ALREADY_EXISTS) return false;
      this.#fail('CreateDirectoryW', path);
    });
  }

  setDacl(path: string, sddl: string): void {
    this.#withDescriptor(sddl, (descriptor) => {
      const info = DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION;
      if (!this.#f.SetFileSecurityW(path, info, descriptor)) this.#fail('SetFileSecurityW', path);
    });
  }

  processUserSid(): string {
    const token: [Pointer] = [null];
    if (!this.#f.OpenProcessToken(this.#k32.GetCurrentProcess!(), TOKEN_QUERY, token) || !token[0]) {
      this.#fail('OpenProcessToken');
    }
    try {
      const buffer = Buffer.alloc(256);
      const length: [number] = [0];
      if (!this.#f.GetTokenInformation(token[0], TokenUser, buffer, buffer.length, length)) {
        this.#fail('GetTokenInformation', 'TokenUser');
      }
      const sid = koffi().decode(buffer, 'void *') as Pointer;
      return this.#sidString(sid, 'the process user');
    } finally {
      this.#k32.CloseHandle!(token[0]);
    }
  }
}
