import { closeSync, createReadStream, createWriteStream, ftruncateSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { TypeObject } from 'koffi';
import { fromFiletime } from '../../internal/filetime.js';
import { Win32CallError } from '../jobs/errors.js';
import { handleToFd } from '../shared/kernel32.js';
import { type KoffiFunction, koffi, type Pointer } from '../shared/koffi-module.js';
import { loadSystemLibrary } from '../shared/library.js';
import type { Win32Handle } from '../shared/types.js';
import type { DirectoryEntry, FilesNativeApi, OpenChildRequest, OpenChildResult } from './types.js';

const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const FILE_READ_ATTRIBUTES = 0x80;
const SYNCHRONIZE = 0x100000;
const DELETE = 0x10000;
const FILE_SHARE_ALL = 0x7;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const FILE_ATTRIBUTE_REPARSE_POINT = 0x400;
/** CreateDisposition (wdm.h). */
const FILE_OPEN = 1;
const FILE_OPEN_IF = 3;
/** CreateOptions (wdm.h). */
const FILE_DIRECTORY_FILE = 0x1;
const FILE_SYNCHRONOUS_IO_NONALERT = 0x20;
const FILE_NON_DIRECTORY_FILE = 0x40;
const FILE_OPEN_FOR_BACKUP_INTENT = 0x4000;
const FILE_OPEN_REPARSE_POINT = 0x200000;
/** OBJECT_ATTRIBUTES.Attributes (ntdef.h): Win32 name semantics, and no reparse at all. */
const OBJ_CASE_INSENSITIVE = 0x40;
const OBJ_DONT_REPARSE = 0x1000;
/** FILE_INFORMATION_CLASS (wdm.h / ntifs.h). */
const FileFullDirectoryInformation = 2;
const FileAttributeTagInformation = 35;
const FileDispositionInformation = 13;
const STATUS_NO_MORE_FILES = 0x80000006;
const OPEN_EXISTING = 3;
const FILE_FLAG_BACKUP_SEMANTICS = 0x02000000;
const INVALID_HANDLE_VALUE = 0xffffffffffffffffn;
/**
 * FILE_FULL_DIR_INFORMATION (ntifs.h): LastWriteTime at 24, EndOfFile at 40,
 * FileAttributes at 56, FileNameLength at 60, EaSize at 64 (the reparse tag,
 * for a reparse point), FileName at 68.
 */
const DIR_INFO_LAST_WRITE = 24;
const DIR_INFO_END_OF_FILE = 40;
const DIR_INFO_ATTRIBUTES = 56;
const DIR_INFO_NAME_LENGTH = 60;
const DIR_INFO_EA_SIZE = 64;
const DIR_INFO_NAME = 68;
const LIST_BUFFER_BYTES = 64 * 1024;

let structs: { OBJECT_ATTRIBUTES: TypeObject } | undefined;

/** The ntdef.h structs NtCreateFile takes, declared once (koffi names are global). */
function fileStructs() {
  if (structs) return structs;
  const k = koffi();
  // USHORT lengths in bytes, without a terminating NUL.
  const UNICODE_STRING = k.struct('UNICODE_STRING', {
    Length: 'uint16',
    MaximumLength: 'uint16',
    Buffer: 'const char16_t *',
  });
  const OBJECT_ATTRIBUTES = k.struct('OBJECT_ATTRIBUTES', {
    Length: 'uint32',
    RootDirectory: 'void *',
    ObjectName: k.pointer(UNICODE_STRING),
    Attributes: 'uint32',
    SecurityDescriptor: 'void *',
    SecurityQualityOfService: 'void *',
  });
  // The Status/Pointer union is pointer-sized; Information is a ULONG_PTR.
  k.struct('IO_STATUS_BLOCK', { Status: 'uintptr_t', Information: 'uintptr_t' });
  structs = { OBJECT_ATTRIBUTES };
  return structs;
}

/**
 * ntdll.dll through koffi, for opening names inside a mounted writable layer
 * one component at a time, relative to the handle of its parent, the way
 * hcsshim's internal/safefile does (`openRelativeInternal`: NtCreateFile with
 * `RootDirectory`, `OBJ_DONT_REPARSE`; `LstatRelative`: FILE_OPEN_REPARSE_POINT).
 * A single-name open has no intermediate component to reparse, so which object
 * the handle refers to is decided by the kernel in one step: there is no
 * check-then-use window for a link swapped in afterwards.
 *
 * The calls are synchronous (each completes at once on a local volume); bytes
 * move through node:fs streams on a C-runtime descriptor that owns the handle.
 */
export class KoffiFilesNative implements FilesNativeApi {
  readonly #f: Record<string, KoffiFunction>;
  readonly #objectAttributesSize: number;

  constructor() {
    const { OBJECT_ATTRIBUTES } = fileStructs();
    this.#objectAttributesSize = koffi().sizeof(OBJECT_ATTRIBUTES);
    const nt = loadSystemLibrary('ntdll.dll');
    const k32 = loadSystemLibrary('kernel32.dll');
    this.#f = {
      NtCreateFile: nt.func(
        'int32 NtCreateFile(_Out_ void **FileHandle, uint32 DesiredAccess, OBJECT_ATTRIBUTES *ObjectAttributes, ' +
          '_Out_ IO_STATUS_BLOCK *IoStatusBlock, void *AllocationSize, uint32 FileAttributes, uint32 ShareAccess, ' +
          'uint32 CreateDisposition, uint32 CreateOptions, void *EaBuffer, uint32 EaLength)',
      ),
      NtQueryInformationFile: nt.func(
        'int32 NtQueryInformationFile(void *FileHandle, _Out_ IO_STATUS_BLOCK *IoStatusBlock, ' +
          '_Out_ uint8 *FileInformation, uint32 Length, int FileInformationClass)',
      ),
      NtSetInformationFile: nt.func(
        'int32 NtSetInformationFile(void *FileHandle, _Out_ IO_STATUS_BLOCK *IoStatusBlock, ' +
          'uint8 *FileInformation, uint32 Length, int FileInformationClass)',
      ),
      NtQueryDirectoryFile: nt.func(
        'int32 NtQueryDirectoryFile(void *FileHandle, void *Event, void *ApcRoutine, void *ApcContext, ' +
          '_Out_ IO_STATUS_BLOCK *IoStatusBlock, _Out_ uint8 *FileInformation, uint32 Length, ' +
          'int FileInformationClass, uint8 ReturnSingleEntry, void *FileName, uint8 RestartScan)',
      ),
      RtlNtStatusToDosError: nt.func('uint32 RtlNtStatusToDosError(int32 Status)'),
      CreateFileW: k32.func(
        'void *CreateFileW(const char16_t *lpFileName, uint32 dwDesiredAccess, uint32 dwShareMode, ' +
          'void *lpSecurityAttributes, uint32 dwCreationDisposition, uint32 dwFlagsAndAttributes, void *hTemplateFile)',
      ),
      CloseHandle: k32.func('int CloseHandle(void *hObject)'),
      GetLastError: k32.func('uint32 GetLastError()'),
    };
  }

  #dosError(status: number): number {
    return this.#f.RtlNtStatusToDosError!(status | 0) as number;
  }

  openRoot(path: string): Win32Handle {
    const handle = this.#f.CreateFileW!(
      path,
      GENERIC_READ,
      FILE_SHARE_ALL,
      null,
      OPEN_EXISTING,
      FILE_FLAG_BACKUP_SEMANTICS,
      null,
    ) as Pointer;
    if (!handle || BigInt(handle) === INVALID_HANDLE_VALUE) {
      throw new Win32CallError('CreateFileW', this.#f.GetLastError!() as number, path);
    }
    return BigInt(handle) as Win32Handle;
  }

  /** NtCreateFile of one name relative to `parent`: the NTSTATUS and, on success, the handle. */
  #createRelative(
    parent: Win32Handle,
    name: string,
    access: number,
    disposition: number,
    options: number,
    objectAttributes: number,
  ): { status: number; handle?: Win32Handle } {
    const bytes = name.length * 2;
    const out: [Pointer] = [null];
    const status =
      (this.#f.NtCreateFile!(
        out,
        access,
        {
          Length: this.#objectAttributesSize,
          RootDirectory: parent,
          ObjectName: { Length: bytes, MaximumLength: bytes, Buffer: name },
          Attributes: OBJ_CASE_INSENSITIVE | objectAttributes,
          SecurityDescriptor: null,
          SecurityQualityOfService: null,
        },
        {},
        null,
        FILE_ATTRIBUTE_NORMAL,
        FILE_SHARE_ALL,
        disposition,
        options,
        null,
        0,
      ) as number) >>> 0;
    if (status !== 0 || !out[0]) return { status };
    return { status: 0, handle: BigInt(out[0]) as Win32Handle };
  }

  openChild(parent: Win32Handle, request: OpenChildRequest): OpenChildResult {
    const access =
      (request.access === 'write' && request.kind === 'file'
        ? GENERIC_WRITE | FILE_READ_ATTRIBUTES
        : GENERIC_READ) | SYNCHRONIZE;
    const shape = { directory: FILE_DIRECTORY_FILE, file: FILE_NON_DIRECTORY_FILE, any: 0 }[request.kind];
    const options =
      FILE_SYNCHRONOUS_IO_NONALERT |
      FILE_OPEN_FOR_BACKUP_INTENT |
      shape |
      (request.links === 'open-link' ? FILE_OPEN_REPARSE_POINT : 0);
    const { status, handle } = this.#createRelative(
      parent,
      request.name,
      access,
      request.create ? FILE_OPEN_IF : FILE_OPEN,
      options,
      request.links === 'refuse' ? OBJ_DONT_REPARSE : 0,
    );
    if (status !== 0 || handle === undefined) return { status, win32Error: this.#dosError(status) };
    const info = Buffer.alloc(8); // FILE_ATTRIBUTE_TAG_INFORMATION: FileAttributes, ReparseTag
    const queried =
      (this.#f.NtQueryInformationFile!(handle, {}, info, 8, FileAttributeTagInformation) as number) >>> 0;
    if (queried !== 0) {
      this.close(handle);
      throw new Win32CallError('NtQueryInformationFile', this.#dosError(queried), request.name);
    }
    return {
      status: 0,
      entry: { handle, attributes: info.readUInt32LE(0), reparseTag: info.readUInt32LE(4) },
    };
  }

  list(directory: Win32Handle): DirectoryEntry[] {
    const entries: DirectoryEntry[] = [];
    const buffer = Buffer.alloc(LIST_BUFFER_BYTES);
    for (let restart = 1; ; restart = 0) {
      const status =
        (this.#f.NtQueryDirectoryFile!(
          directory,
          null,
          null,
          null,
          {},
          buffer,
          buffer.length,
          FileFullDirectoryInformation,
          0,
          null,
          restart,
        ) as number) >>> 0;
      if (status === STATUS_NO_MORE_FILES) return entries;
      if (status !== 0) throw new Win32CallError('NtQueryDirectoryFile', this.#dosError(status));
      for (let at = 0; ; ) {
        const nameBytes = buffer.readUInt32LE(at + DIR_INFO_NAME_LENGTH);
        const name = buffer.toString('utf16le', at + DIR_INFO_NAME, at + DIR_INFO_NAME + nameBytes);
        if (name !== '.' && name !== '..') {
          const attributes = buffer.readUInt32LE(at + DIR_INFO_ATTRIBUTES);
          const reparseTag =
            attributes & FILE_ATTRIBUTE_REPARSE_POINT ? buffer.readUInt32LE(at + DIR_INFO_EA_SIZE) : 0;
          const size = Number(buffer.readBigUInt64LE(at + DIR_INFO_END_OF_FILE));
          const modified = fromFiletime(buffer.readBigUInt64LE(at + DIR_INFO_LAST_WRITE));
          entries.push({ name, attributes, reparseTag, size, modified });
        }
        const next = buffer.readUInt32LE(at);
        if (next === 0) break;
        at += next;
      }
    }
  }

  remove(parent: Win32Handle, name: string): number {
    // The name itself, link or not (FILE_OPEN_REPARSE_POINT), for DELETE only.
    const opened = this.#createRelative(
      parent,
      name,
      DELETE | SYNCHRONIZE,
      FILE_OPEN,
      FILE_SYNCHRONOUS_IO_NONALERT | FILE_OPEN_FOR_BACKUP_INTENT | FILE_OPEN_REPARSE_POINT,
      0,
    );
    if (opened.status !== 0 || opened.handle === undefined) return opened.status;
    try {
      // FILE_DISPOSITION_INFORMATION { BOOLEAN DeleteFile }: answers at once
      // (STATUS_DIRECTORY_NOT_EMPTY, STATUS_CANNOT_DELETE), unlike FILE_DELETE_ON_CLOSE.
      const disposition = Buffer.from([1]);
      return (
        (this.#f.NtSetInformationFile!(
          opened.handle,
          {},
          disposition,
          1,
          FileDispositionInformation,
        ) as number) >>> 0
      );
    } finally {
      this.close(opened.handle);
    }
  }

  readable(file: Win32Handle): Readable {
    return createReadStream(null as unknown as string, { fd: this.#fd(file) });
  }

  writable(file: Win32Handle): Writable {
    const fd = this.#fd(file);
    try {
      ftruncateSync(fd, 0);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return createWriteStream(null as unknown as string, { fd });
  }

  /** The handle as a descriptor that owns it; closes the handle if that fails. */
  #fd(file: Win32Handle): number {
    try {
      return handleToFd(file);
    } catch (error) {
      this.close(file);
      throw error;
    }
  }

  close(handle: Win32Handle): void {
    this.#f.CloseHandle!(handle);
  }
}
