import type { Prototype } from '../shared/lazy-library.js';

/**
 * Every function of computestorage.dll, transcribed from the SDK's
 * computestorage.h (checked by test/unit/native/storage-prototypes.test.ts
 * against the header). Same conventions as `prototypes.ts`: `const char16_t *`
 * for PCWSTR, `_Out_ void **` for a returned string so we keep the pointer and
 * LocalFree it, `void *` for HANDLE.
 */
export const COMPUTESTORAGE_PROTOTYPES = {
  HcsImportLayer: {
    signature:
      'HRESULT HcsImportLayer(const char16_t *layerPath, const char16_t *sourceFolderPath, const char16_t *layerData)',
  },
  HcsExportLayer: {
    signature:
      'HRESULT HcsExportLayer(const char16_t *layerPath, const char16_t *exportFolderPath, const char16_t *layerData, const char16_t *options)',
  },
  HcsExportLegacyWritableLayer: {
    signature:
      'HRESULT HcsExportLegacyWritableLayer(const char16_t *writableLayerMountPath, const char16_t *writableLayerFolderPath, const char16_t *exportFolderPath, const char16_t *layerData)',
  },
  HcsDestroyLayer: { signature: 'HRESULT HcsDestroyLayer(const char16_t *layerPath)' },
  HcsSetupBaseOSLayer: {
    signature:
      'HRESULT HcsSetupBaseOSLayer(const char16_t *layerPath, void *vhdHandle, const char16_t *options)',
  },
  HcsInitializeWritableLayer: {
    signature:
      'HRESULT HcsInitializeWritableLayer(const char16_t *writableLayerPath, const char16_t *layerData, const char16_t *options)',
  },
  HcsInitializeLegacyWritableLayer: {
    signature:
      'HRESULT HcsInitializeLegacyWritableLayer(const char16_t *writableLayerMountPath, const char16_t *writableLayerFolderPath, const char16_t *layerData, const char16_t *options)',
  },
  HcsAttachLayerStorageFilter: {
    signature: 'HRESULT HcsAttachLayerStorageFilter(const char16_t *layerPath, const char16_t *layerData)',
  },
  HcsDetachLayerStorageFilter: {
    signature: 'HRESULT HcsDetachLayerStorageFilter(const char16_t *layerPath)',
  },
  HcsFormatWritableLayerVhd: { signature: 'HRESULT HcsFormatWritableLayerVhd(void *vhdHandle)' },
  HcsGetLayerVhdMountPath: {
    signature: 'HRESULT HcsGetLayerVhdMountPath(void *vhdHandle, _Out_ void **mountPath)',
  },
  HcsSetupBaseOSVolume: {
    signature:
      'HRESULT HcsSetupBaseOSVolume(const char16_t *layerPath, const char16_t *volumePath, const char16_t *options)',
    minimumBuild: 'Windows Server 2022 (20348)',
  },
} as const satisfies Record<string, Prototype>;

export type ComputeStorageFunctionName = keyof typeof COMPUTESTORAGE_PROTOTYPES;

/**
 * The virtdisk.dll functions a writable layer needs (virtdisk.h). They return a
 * Win32 error code, not an HRESULT. The parameter structs are declared in
 * `structs.ts` at the real SDK offsets (MinGW's virtdisk.h is wrong for
 * CREATE_VIRTUAL_DISK_PARAMETERS version 2).
 */
export const VIRTDISK_PROTOTYPES = {
  CreateVirtualDisk: {
    signature:
      'uint32 CreateVirtualDisk(VIRTUAL_STORAGE_TYPE *VirtualStorageType, const char16_t *Path, uint32 VirtualDiskAccessMask, void *SecurityDescriptor, uint32 Flags, uint32 ProviderSpecificFlags, CREATE_VIRTUAL_DISK_PARAMETERS *Parameters, void *Overlapped, _Out_ void **Handle)',
  },
  OpenVirtualDisk: {
    signature:
      'uint32 OpenVirtualDisk(VIRTUAL_STORAGE_TYPE *VirtualStorageType, const char16_t *Path, uint32 VirtualDiskAccessMask, uint32 Flags, OPEN_VIRTUAL_DISK_PARAMETERS *Parameters, _Out_ void **Handle)',
  },
  AttachVirtualDisk: {
    signature:
      'uint32 AttachVirtualDisk(void *VirtualDiskHandle, void *SecurityDescriptor, uint32 Flags, uint32 ProviderSpecificFlags, ATTACH_VIRTUAL_DISK_PARAMETERS *Parameters, void *Overlapped)',
  },
  DetachVirtualDisk: {
    signature:
      'uint32 DetachVirtualDisk(void *VirtualDiskHandle, uint32 Flags, uint32 ProviderSpecificFlags)',
  },
  GetVirtualDiskPhysicalPath: {
    signature:
      'uint32 GetVirtualDiskPhysicalPath(void *VirtualDiskHandle, _Inout_ uint32 *DiskPathSizeInBytes, void *DiskPath)',
  },
} as const satisfies Record<string, Prototype>;

export type VirtDiskFunctionName = keyof typeof VIRTDISK_PROTOTYPES;
