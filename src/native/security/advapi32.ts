import type { TypeObject } from 'koffi';
import { Win32CallError } from '../jobs/errors.js';
import { type KoffiFunction, koffi, type Pointer } from '../shared/koffi-module.js';
import { loadSystemLibrary } from '../shared/library.js';
import { ADVAPI32_PROTOTYPES, type Advapi32FunctionName } from './prototypes.js';
import type { PrivilegeState, SecurityApi, TokenStatus } from './types.js';

const TOKEN_ADJUST_PRIVILEGES = 0x20;
const TOKEN_QUERY = 0x8;
const SE_PRIVILEGE_ENABLED = 0x2;
/** TOKEN_INFORMATION_CLASS */
const TokenPrivileges = 3;
const TokenElevation = 20;
/** WELL_KNOWN_SID_TYPE WinBuiltinAdministratorsSid */
const WinBuiltinAdministratorsSid = 26;
const SECURITY_MAX_SID_SIZE = 68;
const ERROR_INSUFFICIENT_BUFFER = 122;
const ERROR_NOT_ALL_ASSIGNED = 1300;
/** sizeof(LUID_AND_ATTRIBUTES): LUID (DWORD + LONG) + DWORD, 4-byte aligned. */
const LUID_AND_ATTRIBUTES_SIZE = 12;

let structs: { LUID: TypeObject; TOKEN_PRIVILEGES_1: TypeObject } | undefined;

/** The winnt.h structs the prototypes name, declared once (koffi names are global). */
function securityStructs() {
  if (structs) return structs;
  const k = koffi();
  const LUID = k.struct('LUID', { LowPart: 'uint32', HighPart: 'int32' });
  const LUID_AND_ATTRIBUTES = k.struct('LUID_AND_ATTRIBUTES', { Luid: LUID, Attributes: 'uint32' });
  // TOKEN_PRIVILEGES with ANYSIZE_ARRAY = 1: one privilege per call.
  const TOKEN_PRIVILEGES_1 = k.struct('TOKEN_PRIVILEGES_1', {
    PrivilegeCount: 'uint32',
    Privileges: k.array(LUID_AND_ATTRIBUTES, 1),
  });
  structs = { LUID, TOKEN_PRIVILEGES_1 };
  return structs;
}

interface Luid {
  LowPart: number;
  HighPart: number;
}

/**
 * advapi32.dll through koffi, for the process token. Every call here is
 * synchronous, on the main thread, so `GetLastError` is read straight after it
 * on the same thread (koffi keeps the last error across its own calls, see
 * `jobs/kernel32.ts`).
 *
 * The process token, never a thread token: computestorage calls run on
 * koffi's worker pool, and a privilege enabled on the main thread's
 * impersonation token would not apply to those threads. Enabling it on the
 * process token does (hcsshim does the same: go-winio `EnableProcessPrivileges`).
 */
export class KoffiAdvapi32 implements SecurityApi {
  readonly #f: Record<Advapi32FunctionName, KoffiFunction>;
  readonly #k32: Record<'GetLastError' | 'GetCurrentProcess' | 'CloseHandle', KoffiFunction>;

  constructor() {
    securityStructs();
    const lib = loadSystemLibrary('advapi32.dll');
    const k32 = loadSystemLibrary('kernel32.dll');
    this.#f = Object.fromEntries(
      Object.entries(ADVAPI32_PROTOTYPES).map(([name, p]) => [name, lib.func(p.signature)]),
    ) as Record<Advapi32FunctionName, KoffiFunction>;
    this.#k32 = {
      GetLastError: k32.func('uint32 GetLastError()'),
      GetCurrentProcess: k32.func('void *GetCurrentProcess()'),
      CloseHandle: k32.func('int CloseHandle(void *hObject)'),
    };
  }

  #fail(name: string, detail?: string): never {
    throw new Win32CallError(name, this.#k32.GetLastError!() as number, detail);
  }

  #withToken<T>(access: number, use: (token: Pointer) => T): T {
    const out: [Pointer] = [null];
    if (!this.#f.OpenProcessToken(this.#k32.GetCurrentProcess!(), access, out) || !out[0]) {
      this.#fail('OpenProcessToken');
    }
    try {
      return use(out[0]);
    } finally {
      this.#k32.CloseHandle!(out[0]);
    }
  }

  #luid(name: string): Luid {
    const luid: Luid = { LowPart: 0, HighPart: 0 };
    if (!this.#f.LookupPrivilegeValueW(null, name, luid)) this.#fail('LookupPrivilegeValueW', name);
    return luid;
  }

  #tokenInfo(token: Pointer, infoClass: number): Buffer {
    let buffer = Buffer.alloc(4096);
    const length: [number] = [0];
    if (this.#f.GetTokenInformation(token, infoClass, buffer, buffer.length, length)) return buffer;
    if (this.#k32.GetLastError!() !== ERROR_INSUFFICIENT_BUFFER) this.#fail('GetTokenInformation');
    buffer = Buffer.alloc(length[0]);
    if (!this.#f.GetTokenInformation(token, infoClass, buffer, buffer.length, length)) {
      this.#fail('GetTokenInformation');
    }
    return buffer;
  }

  processToken(privileges: readonly string[]): TokenStatus {
    const wanted = privileges.map((name) => ({ name, luid: this.#luid(name) }));
    return this.#withToken(TOKEN_QUERY, (token) => {
      const elevated = this.#tokenInfo(token, TokenElevation).readUInt32LE(0) !== 0;
      const list = this.#tokenInfo(token, TokenPrivileges);
      const count = list.readUInt32LE(0);
      const states: Record<string, PrivilegeState> = {};
      for (const { name } of wanted) states[name] = { held: false, enabled: false };
      for (let i = 0; i < count; i++) {
        const at = 4 + i * LUID_AND_ATTRIBUTES_SIZE;
        const low = list.readUInt32LE(at);
        const high = list.readInt32LE(at + 4);
        const attributes = list.readUInt32LE(at + 8);
        for (const { name, luid } of wanted) {
          if (luid.LowPart === low && luid.HighPart === high) {
            states[name] = { held: true, enabled: (attributes & SE_PRIVILEGE_ENABLED) !== 0 };
          }
        }
      }
      return { elevated, administrators: this.#isAdministrator(), privileges: states };
    });
  }

  /** BUILTIN\Administrators present and enabled in the caller's token (a filtered token has it deny-only). */
  #isAdministrator(): boolean {
    const sid = Buffer.alloc(SECURITY_MAX_SID_SIZE);
    const size: [number] = [sid.length];
    if (!this.#f.CreateWellKnownSid(WinBuiltinAdministratorsSid, null, sid, size)) {
      this.#fail('CreateWellKnownSid');
    }
    const member: [number] = [0];
    if (!this.#f.CheckTokenMembership(null, sid, member)) this.#fail('CheckTokenMembership');
    return member[0] !== 0;
  }

  enableProcessPrivileges(privileges: readonly string[]): string[] {
    const luids = privileges.map((name) => ({ name, luid: this.#luid(name) }));
    return this.#withToken(TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, (token) => {
      const notHeld: string[] = [];
      for (const { name, luid } of luids) {
        const state = { PrivilegeCount: 1, Privileges: [{ Luid: luid, Attributes: SE_PRIVILEGE_ENABLED }] };
        if (!this.#f.AdjustTokenPrivileges(token, 0, state, 0, null, null)) {
          this.#fail('AdjustTokenPrivileges', name);
        }
        // Success with ERROR_NOT_ALL_ASSIGNED: the token does not hold this privilege at all.
        if (this.#k32.GetLastError!() === ERROR_NOT_ALL_ASSIGNED) notHeld.push(name);
      }
      return notHeld;
    });
  }
}
