import type { LibraryHandle } from 'koffi';
import { FunctionUnavailableError } from '../shared/errors.js';
import { type KoffiFunction, koffi, type Pointer } from '../shared/koffi-module.js';
import { loadSystemLibrary } from '../shared/library.js';
import type { Win32Handle } from '../shared/types.js';
import {
  decodeAccounting,
  decodeExtended,
  decodeIo,
  encodeCpuRate,
  encodeEnvironment,
  encodeExtended,
  encodeIoRate,
  encodeStartupInfo,
  type RawAccounting,
  type RawExtended,
  type RawIo,
} from './codecs.js';
import { Win32CallError } from './errors.js';
import { type JobStructs, jobStructs } from './structs.js';
import {
  type BasicAccountingInformation,
  type CpuRateControlInformation,
  type CreatedProcess,
  type CreateProcessRequest,
  type ExtendedLimitInformation,
  type IoCounters,
  type IoRateControlInformation,
  JobObjectInfoClass,
  type JobsNativeApi,
  Win32ErrorCode,
} from './types.js';

const CREATE_SUSPENDED = 0x4;
const CREATE_UNICODE_ENVIRONMENT = 0x400;
const WAIT_OBJECT_0 = 0;
const WAIT_TIMEOUT = 0x102;
const DUPLICATE_SAME_ACCESS = 0x2;
const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const FILE_APPEND_DATA = 0x4;
const SYNCHRONIZE = 0x100000;
const FILE_SHARE_READ_WRITE = 0x3;
const OPEN_EXISTING = 3;
const OPEN_ALWAYS = 4;
const CREATE_ALWAYS = 2;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const INVALID_HANDLE_VALUE = 0xffffffffffffffffn;
/** STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE as DWORDs. */
const STD_HANDLES = [0xfffffff6, 0xfffffff5, 0xfffffff4] as const;

/**
 * kernel32's job-object and process functions through koffi, loaded on first
 * use. These calls complete at once (none waits for another process), so they
 * run synchronously and `GetLastError` is read straight after each failing one,
 * on the same thread: koffi saves and restores the thread's last-error value
 * around every call it makes on Windows, which makes this reliable. The one
 * call that blocks, `WaitForSingleObject`, runs on a worker thread (`.async`);
 * when it fails, the code is read by repeating it synchronously with a zero
 * timeout, because a worker thread's last error cannot be read from here.
 */
export class KoffiJobsNative implements JobsNativeApi {
  readonly #lib: LibraryHandle;
  readonly #f: Record<string, KoffiFunction>;
  #ioRate: KoffiFunction | null | undefined;

  constructor() {
    jobStructs(); // the prototypes below name these structs
    const lib = loadSystemLibrary('kernel32.dll');
    this.#lib = lib;
    this.#f = {
      GetLastError: lib.func('uint32 GetLastError()'),
      CloseHandle: lib.func('int CloseHandle(void *hObject)'),
      CreateJobObjectW: lib.func('void *CreateJobObjectW(void *lpJobAttributes, const char16_t *lpName)'),
      OpenJobObjectW: lib.func(
        'void *OpenJobObjectW(uint32 dwDesiredAccess, int bInheritHandle, const char16_t *lpName)',
      ),
      AssignProcessToJobObject: lib.func('int AssignProcessToJobObject(void *hJob, void *hProcess)'),
      TerminateJobObject: lib.func('int TerminateJobObject(void *hJob, uint32 uExitCode)'),
      IsProcessInJob: lib.func('int IsProcessInJob(void *ProcessHandle, void *JobHandle, _Out_ int *Result)'),
      SetInformationJobObject: lib.func(
        'int SetInformationJobObject(void *hJob, int cls, void *lpJobObjectInformation, uint32 cbLength)',
      ),
      QueryInformationJobObject: lib.func(
        'int QueryInformationJobObject(void *hJob, int cls, _Out_ void *lpInfo, uint32 cbLength, _Out_ uint32 *lpReturnLength)',
      ),
      OpenProcess: lib.func(
        'void *OpenProcess(uint32 dwDesiredAccess, int bInheritHandle, uint32 dwProcessId)',
      ),
      CreateProcessW: lib.func(
        'int CreateProcessW(const char16_t *lpApplicationName, void *lpCommandLine, void *lpProcessAttributes, ' +
          'void *lpThreadAttributes, int bInheritHandles, uint32 dwCreationFlags, void *lpEnvironment, ' +
          'const char16_t *lpCurrentDirectory, STARTUPINFOW *lpStartupInfo, _Out_ PROCESS_INFORMATION *lpProcessInformation)',
      ),
      TerminateProcess: lib.func('int TerminateProcess(void *hProcess, uint32 uExitCode)'),
      ResumeThread: lib.func('uint32 ResumeThread(void *hThread)'),
      WaitForSingleObject: lib.func('uint32 WaitForSingleObject(void *hHandle, uint32 dwMilliseconds)'),
      GetExitCodeProcess: lib.func('int GetExitCodeProcess(void *hProcess, _Out_ uint32 *lpExitCode)'),
      CreateFileW: lib.func(
        'void *CreateFileW(const char16_t *lpFileName, uint32 dwDesiredAccess, uint32 dwShareMode, ' +
          'SECURITY_ATTRIBUTES *lpSecurityAttributes, uint32 dwCreationDisposition, uint32 dwFlagsAndAttributes, void *hTemplateFile)',
      ),
      GetStdHandle: lib.func('void *GetStdHandle(uint32 nStdHandle)'),
      GetCurrentProcess: lib.func('void *GetCurrentProcess()'),
      DuplicateHandle: lib.func(
        'int DuplicateHandle(void *hSourceProcessHandle, void *hSourceHandle, void *hTargetProcessHandle, ' +
          '_Out_ void **lpTargetHandle, uint32 dwDesiredAccess, int bInheritHandle, uint32 dwOptions)',
      ),
    };
  }

  /** Throws the last error of `name` (call it straight after the failing call). */
  #fail(name: string, detail?: string): never {
    throw new Win32CallError(name, this.#f.GetLastError!() as number, detail);
  }

  #call(name: string, ...args: unknown[]): unknown {
    return this.#f[name]!(...args);
  }

  createJobObject(name: string | null): { handle: Win32Handle; alreadyExisted: boolean } {
    const handle = this.#call('CreateJobObjectW', null, name) as Pointer;
    const error = this.#f.GetLastError!() as number;
    if (!handle)
      throw new Win32CallError('CreateJobObjectW', error, name ? `job name ${JSON.stringify(name)}` : '');
    return { handle: handle as Win32Handle, alreadyExisted: error === Win32ErrorCode.ERROR_ALREADY_EXISTS };
  }

  openJobObject(name: string, access: number): Win32Handle {
    const handle = this.#call('OpenJobObjectW', access >>> 0, 0, name) as Pointer;
    if (!handle) this.#fail('OpenJobObjectW', `job name ${JSON.stringify(name)}`);
    return handle as Win32Handle;
  }

  assignProcessToJobObject(job: Win32Handle, process: Win32Handle): void {
    if (!this.#call('AssignProcessToJobObject', job, process)) this.#fail('AssignProcessToJobObject');
  }

  terminateJobObject(job: Win32Handle, exitCode: number): void {
    if (!this.#call('TerminateJobObject', job, exitCode >>> 0)) this.#fail('TerminateJobObject');
  }

  isProcessInJob(process: Win32Handle, job: Win32Handle | null): boolean {
    const out: [number] = [0];
    if (!this.#call('IsProcessInJob', process, job, out)) this.#fail('IsProcessInJob');
    return out[0] !== 0;
  }

  #set(job: Win32Handle, cls: number, type: keyof JobStructs, value: unknown, what: string): void {
    const t = jobStructs()[type];
    const buffer = Buffer.alloc(t.size);
    koffi().encode(buffer, t, value);
    if (!this.#call('SetInformationJobObject', job, cls, buffer, t.size))
      this.#fail('SetInformationJobObject', what);
  }

  #query(job: Win32Handle, cls: number, size: number, what: string): Buffer {
    const buffer = Buffer.alloc(size);
    const returned: [number] = [0];
    if (!this.#call('QueryInformationJobObject', job, cls, buffer, size, returned))
      this.#fail('QueryInformationJobObject', what);
    return buffer;
  }

  setExtendedLimitInformation(job: Win32Handle, info: ExtendedLimitInformation): void {
    this.#set(
      job,
      JobObjectInfoClass.ExtendedLimitInformation,
      'JOBOBJECT_EXTENDED_LIMIT_INFORMATION',
      encodeExtended(info),
      'JobObjectExtendedLimitInformation',
    );
  }

  queryExtendedLimitInformation(job: Win32Handle): ExtendedLimitInformation {
    const t = jobStructs().JOBOBJECT_EXTENDED_LIMIT_INFORMATION;
    const buffer = this.#query(
      job,
      JobObjectInfoClass.ExtendedLimitInformation,
      t.size,
      'JobObjectExtendedLimitInformation',
    );
    return decodeExtended(koffi().decode(buffer, t) as RawExtended);
  }

  setCpuRateControlInformation(job: Win32Handle, info: CpuRateControlInformation): void {
    this.#set(
      job,
      JobObjectInfoClass.CpuRateControlInformation,
      'JOBOBJECT_CPU_RATE_CONTROL_INFORMATION',
      encodeCpuRate(info),
      'JobObjectCpuRateControlInformation',
    );
  }

  queryCpuRateControlInformation(job: Win32Handle): CpuRateControlInformation {
    const t = jobStructs().JOBOBJECT_CPU_RATE_CONTROL_INFORMATION;
    const buffer = this.#query(
      job,
      JobObjectInfoClass.CpuRateControlInformation,
      t.size,
      'JobObjectCpuRateControlInformation',
    );
    // Koffi cannot know the union's active member: read it as the DWORD it is.
    return { controlFlags: buffer.readUInt32LE(0), value: buffer.readUInt32LE(koffi().offsetof(t, 'u')) };
  }

  queryBasicAccountingInformation(job: Win32Handle): BasicAccountingInformation {
    const t = jobStructs().JOBOBJECT_BASIC_ACCOUNTING_INFORMATION;
    const buffer = this.#query(
      job,
      JobObjectInfoClass.BasicAccountingInformation,
      t.size,
      'JobObjectBasicAccountingInformation',
    );
    return decodeAccounting(koffi().decode(buffer, t) as RawAccounting);
  }

  queryBasicAndIoAccountingInformation(job: Win32Handle): BasicAccountingInformation & { io: IoCounters } {
    const t = jobStructs().JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION;
    const buffer = this.#query(
      job,
      JobObjectInfoClass.BasicAndIoAccountingInformation,
      t.size,
      'JobObjectBasicAndIoAccountingInformation',
    );
    const raw = koffi().decode(buffer, t) as { BasicInfo: RawAccounting; IoInfo: RawIo };
    return { ...decodeAccounting(raw.BasicInfo), io: decodeIo(raw.IoInfo) };
  }

  queryProcessIdList(job: Win32Handle): { assigned: number; processIds: number[] } {
    let capacity = 64;
    for (;;) {
      const size = 8 + 8 * capacity;
      const buffer = Buffer.alloc(size);
      const returned: [number] = [0];
      const ok = this.#call(
        'QueryInformationJobObject',
        job,
        JobObjectInfoClass.BasicProcessIdList,
        buffer,
        size,
        returned,
      );
      const error = ok ? 0 : (this.#f.GetLastError!() as number);
      const assigned = buffer.readUInt32LE(0);
      if (!ok && error === Win32ErrorCode.ERROR_MORE_DATA && assigned > capacity) {
        capacity = assigned + 16;
        continue;
      }
      if (!ok) throw new Win32CallError('QueryInformationJobObject', error, 'JobObjectBasicProcessIdList');
      const listed = Math.min(buffer.readUInt32LE(4), capacity);
      const processIds: number[] = [];
      for (let i = 0; i < listed; i++) processIds.push(Number(buffer.readBigUInt64LE(8 + 8 * i)));
      return { assigned, processIds };
    }
  }

  hasIoRateControl(): boolean {
    return this.#ioRateFunction() !== null;
  }

  #ioRateFunction(): KoffiFunction | null {
    if (this.#ioRate === undefined) {
      try {
        this.#ioRate = this.#lib.func(
          'uint32 SetIoRateControlInformationJobObject(void *hJob, JOBOBJECT_IO_RATE_CONTROL_INFORMATION *info)',
        );
      } catch {
        this.#ioRate = null;
      }
    }
    return this.#ioRate;
  }

  setIoRateControlInformation(job: Win32Handle, info: IoRateControlInformation): void {
    const fn = this.#ioRateFunction();
    if (!fn)
      throw new FunctionUnavailableError(
        'kernel32.dll',
        'SetIoRateControlInformationJobObject',
        'Windows 10',
      );
    // Returns a DWORD: nonzero on success, 0 on failure (GetLastError).
    const ok = fn(job, encodeIoRate(info)) as number;
    if (!ok) this.#fail('SetIoRateControlInformationJobObject');
  }

  openProcess(pid: number, access: number): Win32Handle {
    const handle = this.#call('OpenProcess', access >>> 0, 0, pid >>> 0) as Pointer;
    if (!handle) this.#fail('OpenProcess', `process ${pid}`);
    return handle as Win32Handle;
  }

  createSuspendedProcess(request: CreateProcessRequest): CreatedProcess {
    const commandLine = Buffer.from(`${request.commandLine}\0`, 'utf16le');
    const environment = request.environment ? encodeEnvironment(request.environment) : null;
    const info: Record<string, unknown> = {};
    const ok = this.#call(
      'CreateProcessW',
      null,
      commandLine,
      null,
      null,
      1,
      CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT,
      environment,
      request.cwd,
      encodeStartupInfo(request),
      info,
    );
    if (!ok) this.#fail('CreateProcessW', `command line ${JSON.stringify(request.commandLine)}`);
    return {
      process: info.hProcess as Win32Handle,
      thread: info.hThread as Win32Handle,
      processId: info.dwProcessId as number,
      threadId: info.dwThreadId as number,
    };
  }

  terminateProcess(process: Win32Handle, exitCode: number): void {
    if (!this.#call('TerminateProcess', process, exitCode >>> 0)) this.#fail('TerminateProcess');
  }

  resumeThread(thread: Win32Handle): number {
    const previous = this.#call('ResumeThread', thread) as number;
    if (previous === 0xffffffff) this.#fail('ResumeThread');
    return previous;
  }

  waitForObject(handle: Win32Handle, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#f.WaitForSingleObject!.async(handle, timeoutMs >>> 0, (error: unknown, result: number) => {
        if (error) return reject(error);
        if (result === WAIT_OBJECT_0) return resolve(true);
        if (result === WAIT_TIMEOUT) return resolve(false);
        // WAIT_FAILED (or WAIT_ABANDONED, which a process never gives): the worker
        // thread's last error is out of reach, so repeat the call here, at once.
        try {
          const again = this.#call('WaitForSingleObject', handle, 0) as number;
          if (again === WAIT_OBJECT_0) return resolve(true);
          if (again === WAIT_TIMEOUT) return resolve(false);
          this.#fail('WaitForSingleObject');
        } catch (failure) {
          reject(failure);
        }
      });
    });
  }

  getExitCodeProcess(process: Win32Handle): number {
    const out: [number] = [0];
    if (!this.#call('GetExitCodeProcess', process, out)) this.#fail('GetExitCodeProcess');
    return out[0] >>> 0;
  }

  openStdioFile(path: string, mode: 'read' | 'write' | 'append'): Win32Handle {
    const attributes = {
      nLength: jobStructs().SECURITY_ATTRIBUTES.size,
      lpSecurityDescriptor: null,
      bInheritHandle: 1,
    };
    const access =
      mode === 'read' ? GENERIC_READ : mode === 'write' ? GENERIC_WRITE : FILE_APPEND_DATA | SYNCHRONIZE;
    const disposition = mode === 'read' ? OPEN_EXISTING : mode === 'write' ? CREATE_ALWAYS : OPEN_ALWAYS;
    const handle = this.#call(
      'CreateFileW',
      path,
      access >>> 0,
      FILE_SHARE_READ_WRITE,
      attributes,
      disposition,
      FILE_ATTRIBUTE_NORMAL,
      null,
    ) as Pointer;
    if (!handle || BigInt.asUintN(64, handle) === INVALID_HANDLE_VALUE)
      this.#fail('CreateFileW', `${mode} ${JSON.stringify(path)}`);
    return handle as Win32Handle;
  }

  inheritableStdHandle(stream: 0 | 1 | 2): Win32Handle | null {
    const source = this.#call('GetStdHandle', STD_HANDLES[stream]) as Pointer;
    if (!source || BigInt.asUintN(64, source) === INVALID_HANDLE_VALUE) return null;
    const self = this.#call('GetCurrentProcess') as Pointer;
    const out: [Pointer] = [null];
    // A duplicate, so our own standard handle never becomes inheritable.
    if (!this.#call('DuplicateHandle', self, source, self, out, 0, 1, DUPLICATE_SAME_ACCESS)) return null;
    return out[0] as Win32Handle | null;
  }

  closeHandle(handle: Win32Handle): boolean {
    return this.#call('CloseHandle', handle) !== 0;
  }
}
