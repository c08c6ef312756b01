import type { Brand, HResult } from '../shared/types.js';

/**
 * The storage surface of hcs-sandbox in HCS terms: computestorage.dll (container
 * layers) and the part of virtdisk.dll a writable layer needs. `computestorage.ts`
 * and `virtdisk.ts` implement it with koffi; tests implement it in memory
 * (`test/support/fake-storage.ts`). Nothing here mentions koffi.
 *
 * Every method returns a promise: the calls run on koffi's worker pool because
 * formatting or attaching a disk can take seconds, and nothing may block the
 * main thread while HCS callbacks need it.
 */

/** A virtdisk `HANDLE` from CreateVirtualDisk/OpenVirtualDisk; close it with {@link VirtDiskApi.closeHandle}. */
export type VirtualDiskHandle = Brand<bigint, 'VIRTUAL_DISK_HANDLE'>;

/** A Win32 error code (`DWORD`) as virtdisk.dll returns it; 0 is `ERROR_SUCCESS`. */
export type Win32Error = number;

/** The functions of computestorage.h (all return an HRESULT). */
export interface StorageApi {
  /** Whether this Windows build exports `name` (missing exports throw `FunctionUnavailableError`). */
  hasFunction(name: string): boolean;
  importLayer(layerPath: string, sourceFolderPath: string, layerData: string): Promise<HResult>;
  exportLayer(
    layerPath: string,
    exportFolderPath: string,
    layerData: string,
    options: string | null,
  ): Promise<HResult>;
  exportLegacyWritableLayer(
    writableLayerMountPath: string,
    writableLayerFolderPath: string,
    exportFolderPath: string,
    layerData: string,
  ): Promise<HResult>;
  destroyLayer(layerPath: string): Promise<HResult>;
  setupBaseOSLayer(layerPath: string, vhd: VirtualDiskHandle | null, options: string): Promise<HResult>;
  initializeWritableLayer(
    writableLayerPath: string,
    layerData: string,
    options: string | null,
  ): Promise<HResult>;
  initializeLegacyWritableLayer(
    writableLayerMountPath: string,
    writableLayerFolderPath: string,
    layerData: string,
    options: string | null,
  ): Promise<HResult>;
  attachLayerStorageFilter(layerPath: string, layerData: string): Promise<HResult>;
  detachLayerStorageFilter(layerPath: string): Promise<HResult>;
  formatWritableLayerVhd(vhd: VirtualDiskHandle): Promise<HResult>;
  /** The volume path (`\\?\Volume{...}\`) of an attached writable-layer VHD; the native string is LocalFree'd. */
  getLayerVhdMountPath(vhd: VirtualDiskHandle): Promise<{ hr: HResult; path: string | null }>;
  setupBaseOSVolume(layerPath: string, volumePath: string, options: string): Promise<HResult>;
}

/** `VIRTUAL_STORAGE_TYPE`; all zero (the default) lets virtdisk infer the type from the extension. */
export interface VirtualStorageType {
  deviceId: number;
  /** A GUID string; `VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT` for VHD/VHDX. */
  vendorId: string;
}

/** `CREATE_VIRTUAL_DISK_PARAMETERS` version 2, in JavaScript terms. */
export interface CreateVirtualDiskOptions {
  maximumSizeBytes: bigint;
  /** 0 = the default; hcsshim uses 1 MiB for scratch disks. */
  blockSizeBytes?: number;
  sectorSizeBytes?: number;
  physicalSectorSizeBytes?: number;
  parentPath?: string;
  sourcePath?: string;
  /** `OPEN_VIRTUAL_DISK_FLAG` for the parent/source. */
  openFlags?: number;
  /** `CREATE_VIRTUAL_DISK_FLAG`. */
  flags?: number;
  storageType?: VirtualStorageType;
}

/** `OPEN_VIRTUAL_DISK_PARAMETERS` version 2, in JavaScript terms. */
export interface OpenVirtualDiskOptions {
  /** `OPEN_VIRTUAL_DISK_FLAG`. */
  flags?: number;
  getInfoOnly?: boolean;
  readOnly?: boolean;
  storageType?: VirtualStorageType;
}

export interface DiskHandleResult {
  error: Win32Error;
  handle: VirtualDiskHandle | null;
}

/** The virtdisk.dll functions a writable layer needs, plus kernel32 `CloseHandle` for their handles. */
export interface VirtDiskApi {
  hasFunction(name: string): boolean;
  createVirtualDisk(path: string, options: CreateVirtualDiskOptions): Promise<DiskHandleResult>;
  openVirtualDisk(path: string, options?: OpenVirtualDiskOptions): Promise<DiskHandleResult>;
  /** `flags` is `ATTACH_VIRTUAL_DISK_FLAG`; version 2 parameters, no security descriptor. */
  attachVirtualDisk(handle: VirtualDiskHandle, flags: number): Promise<Win32Error>;
  detachVirtualDisk(handle: VirtualDiskHandle, flags?: number): Promise<Win32Error>;
  /** The `\\.\PhysicalDriveN` path of an attached disk. */
  getVirtualDiskPhysicalPath(handle: VirtualDiskHandle): Promise<{ error: Win32Error; path: string | null }>;
  /** kernel32 `CloseHandle`; false when Windows refused. */
  closeHandle(handle: VirtualDiskHandle): Promise<boolean>;
}

/** `VIRTUAL_STORAGE_TYPE_DEVICE_*`. */
export const VirtualStorageDeviceType = {
  Unknown: 0,
  Iso: 1,
  Vhd: 2,
  Vhdx: 3,
  VhdSet: 4,
} as const;

/** `VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT`. */
export const VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT = 'ec984aec-a0f9-47e9-901f-71415a66345b';

/** `VIRTUAL_DISK_ACCESS_MASK`; version 2 parameters require `None`. */
export const VirtualDiskAccess = {
  None: 0,
  AttachRo: 0x00010000,
  AttachRw: 0x00020000,
  Detach: 0x00040000,
  GetInfo: 0x00080000,
  Create: 0x00100000,
  MetaOps: 0x00200000,
  Read: 0x000d0000,
  All: 0x003f0000,
  Writable: 0x00320000,
} as const;

/** `CREATE_VIRTUAL_DISK_FLAG`. */
export const CreateVirtualDiskFlag = {
  None: 0,
  FullPhysicalAllocation: 0x1,
  PreventWritesToSourceDisk: 0x2,
  DoNotCopyMetadataFromParent: 0x4,
  CreateBackingStorage: 0x8,
  UseChangeTrackingSourceLimit: 0x10,
  PreserveParentChangeTrackingState: 0x20,
  VhdSetUseOriginalBackingStorage: 0x40,
  SparseFile: 0x80,
  PmemCompatible: 0x100,
  SupportCompressedVolumes: 0x200,
} as const;

/** `OPEN_VIRTUAL_DISK_FLAG`. */
export const OpenVirtualDiskFlag = {
  None: 0,
  NoParents: 0x1,
  BlankFile: 0x2,
  BootDrive: 0x4,
  CachedIo: 0x8,
  CustomDiffChain: 0x10,
  ParentCachedIo: 0x20,
  VhdSetFileOnly: 0x40,
  IgnoreRelativeParentLocator: 0x80,
  NoWriteHardening: 0x100,
  SupportCompressedVolumes: 0x200,
} as const;

/** `ATTACH_VIRTUAL_DISK_FLAG`. */
export const AttachVirtualDiskFlag = {
  None: 0,
  ReadOnly: 0x1,
  NoDriveLetter: 0x2,
  PermanentLifetime: 0x4,
  NoLocalHost: 0x8,
  NoSecurityDescriptor: 0x10,
  BypassDefaultEncryptionPolicy: 0x20,
  NonPnp: 0x40,
  RestrictedRange: 0x80,
  SinglePartition: 0x100,
  RegisterVolume: 0x200,
  AtBoot: 0x400,
} as const;

/** `DETACH_VIRTUAL_DISK_FLAG`. */
export const DetachVirtualDiskFlag = { None: 0 } as const;

/**
 * `HRESULT_FROM_WIN32`: a virtdisk error as the HRESULT the rest of hcs-sandbox
 * reports (signed, like the DLLs return). Codes that already carry the severity
 * bit (virtdisk's `ERROR_VIRTDISK_*`, `0xC03Axxxx`) pass through unchanged.
 */
export function hresultFromWin32(error: Win32Error): HResult {
  const u = error >>> 0;
  if (u === 0 || u & 0x80000000) return u | 0;
  return (u & 0xffff) | 0x80070000 | 0;
}
