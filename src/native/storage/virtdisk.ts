import { guidStruct } from '../shared/guid.js';
import type { Pointer } from '../shared/koffi-module.js';
import { LazyLibrary } from '../shared/lazy-library.js';
import { VIRTDISK_PROTOTYPES, type VirtDiskFunctionName } from './prototypes.js';
import { virtDiskTypes } from './structs.js';
import type {
  CreateVirtualDiskOptions,
  DiskHandleResult,
  OpenVirtualDiskOptions,
  VirtDiskApi,
  VirtualDiskHandle,
  VirtualStorageType,
  Win32Error,
} from './types.js';

const CREATE_VIRTUAL_DISK_VERSION_2 = 2;
const OPEN_VIRTUAL_DISK_VERSION_2 = 2;
const ATTACH_VIRTUAL_DISK_VERSION_2 = 2;
const VIRTUAL_DISK_ACCESS_NONE = 0;
const ERROR_INSUFFICIENT_BUFFER = 122;
const ERROR_MORE_DATA = 234;

const KERNEL32_PROTOTYPES = {
  CloseHandle: { signature: 'int CloseHandle(void *hObject)' },
} as const;

/**
 * virtdisk.dll through koffi: create, open, attach and detach the VHDX behind a
 * writable layer. Every call runs on koffi's worker pool (attaching can take
 * seconds); handles are closed with kernel32 `CloseHandle`, also off the main
 * thread, since closing a disk attached without PERMANENT_LIFETIME detaches it.
 *
 * @see https://learn.microsoft.com/windows/win32/api/virtdisk/
 */
export class KoffiVirtDisk implements VirtDiskApi {
  readonly #lib = new LazyLibrary<VirtDiskFunctionName>('virtdisk.dll', VIRTDISK_PROTOTYPES);
  readonly #kernel32 = new LazyLibrary<'CloseHandle'>('kernel32.dll', KERNEL32_PROTOTYPES);

  constructor() {
    virtDiskTypes();
    this.#lib.load();
  }

  hasFunction(name: string): boolean {
    return this.#lib.has(name);
  }

  async createVirtualDisk(path: string, options: CreateVirtualDiskOptions): Promise<DiskHandleResult> {
    const parameters = {
      Version: CREATE_VIRTUAL_DISK_VERSION_2,
      _unionPadding: 0,
      UniqueId: guidStruct(undefined),
      MaximumSize: options.maximumSizeBytes,
      BlockSizeInBytes: options.blockSizeBytes ?? 0,
      SectorSizeInBytes: options.sectorSizeBytes ?? 0,
      PhysicalSectorSizeInBytes: options.physicalSectorSizeBytes ?? 0,
      _pointerPadding: 0,
      ParentPath: options.parentPath ?? null,
      SourcePath: options.sourcePath ?? null,
      OpenFlags: options.openFlags ?? 0,
      ParentVirtualStorageType: storageType(undefined),
      SourceVirtualStorageType: storageType(undefined),
      ResiliencyGuid: guidStruct(undefined),
    };
    const out: [Pointer] = [null];
    const error = await this.#lib.call<Win32Error>('CreateVirtualDisk', [
      storageType(options.storageType),
      path,
      VIRTUAL_DISK_ACCESS_NONE,
      null,
      options.flags ?? 0,
      0,
      parameters,
      null,
      out,
    ]);
    return { error, handle: error === 0 ? handleOf(out[0]) : null };
  }

  async openVirtualDisk(path: string, options: OpenVirtualDiskOptions = {}): Promise<DiskHandleResult> {
    const parameters = {
      Version: OPEN_VIRTUAL_DISK_VERSION_2,
      GetInfoOnly: options.getInfoOnly ? 1 : 0,
      ReadOnly: options.readOnly ? 1 : 0,
      ResiliencyGuid: guidStruct(undefined),
    };
    const out: [Pointer] = [null];
    const error = await this.#lib.call<Win32Error>('OpenVirtualDisk', [
      storageType(options.storageType),
      path,
      VIRTUAL_DISK_ACCESS_NONE,
      options.flags ?? 0,
      parameters,
      out,
    ]);
    return { error, handle: error === 0 ? handleOf(out[0]) : null };
  }

  attachVirtualDisk(handle: VirtualDiskHandle, flags: number): Promise<Win32Error> {
    const parameters = {
      Version: ATTACH_VIRTUAL_DISK_VERSION_2,
      _unionPadding: 0,
      RestrictedOffset: 0n,
      RestrictedLength: 0n,
    };
    return this.#lib.call('AttachVirtualDisk', [handle, null, flags >>> 0, 0, parameters, null]);
  }

  detachVirtualDisk(handle: VirtualDiskHandle, flags = 0): Promise<Win32Error> {
    return this.#lib.call('DetachVirtualDisk', [handle, flags >>> 0, 0]);
  }

  async getVirtualDiskPhysicalPath(
    handle: VirtualDiskHandle,
  ): Promise<{ error: Win32Error; path: string | null }> {
    let bytes = 520; // MAX_PATH wide characters
    for (let attempt = 0; attempt < 3; attempt++) {
      const buffer = Buffer.alloc(bytes);
      const size: [number] = [bytes];
      const error = await this.#lib.call<Win32Error>('GetVirtualDiskPhysicalPath', [handle, size, buffer]);
      if ((error === ERROR_INSUFFICIENT_BUFFER || error === ERROR_MORE_DATA) && size[0] > bytes) {
        bytes = size[0];
        continue;
      }
      if (error !== 0) return { error, path: null };
      const text = buffer.subarray(0, Math.min(size[0], bytes)).toString('utf16le');
      const nul = text.indexOf('\0');
      return { error, path: nul >= 0 ? text.slice(0, nul) : text };
    }
    return { error: ERROR_INSUFFICIENT_BUFFER, path: null };
  }

  async closeHandle(handle: VirtualDiskHandle): Promise<boolean> {
    return (await this.#kernel32.call<number>('CloseHandle', [handle])) !== 0;
  }
}

function storageType(type: VirtualStorageType | undefined): { DeviceId: number; VendorId: unknown } {
  return { DeviceId: type?.deviceId ?? 0, VendorId: guidStruct(type?.vendorId) };
}

function handleOf(pointer: Pointer | undefined): VirtualDiskHandle | null {
  return pointer ? (pointer as VirtualDiskHandle) : null;
}
