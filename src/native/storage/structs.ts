import type { TypeObject } from 'koffi';
import { koffi } from '../shared/koffi-module.js';

/**
 * The virtdisk.h parameter structs as koffi types, laid out at the real SDK
 * offsets for 64-bit Windows (HCS-NOTES §1.5). MinGW's virtdisk.h leaves
 * `PhysicalSectorSizeInBytes` out of CREATE_VIRTUAL_DISK_PARAMETERS version 2,
 * so its sizes are wrong; explicit padding fields pin every offset here, and
 * test/unit/native/storage-structs.test.ts asserts them with koffi's own layout.
 *
 * Only the version this library fills is declared in each union: virtdisk
 * reads the members of the version it is given, and the declared size covers
 * them (version 3/4 of the SDK union are larger; we never send them).
 */
export interface VirtDiskTypes {
  GUID: TypeObject;
  VIRTUAL_STORAGE_TYPE: TypeObject;
  CREATE_VIRTUAL_DISK_PARAMETERS: TypeObject;
  OPEN_VIRTUAL_DISK_PARAMETERS: TypeObject;
  ATTACH_VIRTUAL_DISK_PARAMETERS: TypeObject;
}

let declared: VirtDiskTypes | undefined;

export function virtDiskTypes(): VirtDiskTypes {
  if (declared) return declared;
  const k = koffi();
  // Anonymous: another native module may declare its own GUID (koffi names are global).
  const GUID = k.struct({ Data1: 'uint32', Data2: 'uint16', Data3: 'uint16', Data4: k.array('uint8', 8) });
  const VIRTUAL_STORAGE_TYPE = k.struct('VIRTUAL_STORAGE_TYPE', { DeviceId: 'uint32', VendorId: GUID });
  const CREATE_VIRTUAL_DISK_PARAMETERS = k.struct('CREATE_VIRTUAL_DISK_PARAMETERS', {
    Version: 'uint32',
    // The union holds 64-bit members, so it starts at 8.
    _unionPadding: 'uint32',
    UniqueId: GUID, // @8
    MaximumSize: 'uint64', // @24
    BlockSizeInBytes: 'uint32', // @32
    SectorSizeInBytes: 'uint32', // @36
    PhysicalSectorSizeInBytes: 'uint32', // @40 (missing from MinGW's header)
    _pointerPadding: 'uint32',
    ParentPath: 'const char16_t *', // @48
    SourcePath: 'const char16_t *', // @56
    OpenFlags: 'uint32', // @64
    ParentVirtualStorageType: VIRTUAL_STORAGE_TYPE, // @68
    SourceVirtualStorageType: VIRTUAL_STORAGE_TYPE, // @88
    ResiliencyGuid: GUID, // @108, size 128 with tail padding
  });
  const OPEN_VIRTUAL_DISK_PARAMETERS = k.struct('OPEN_VIRTUAL_DISK_PARAMETERS', {
    Version: 'uint32',
    GetInfoOnly: 'int32', // BOOL @4
    ReadOnly: 'int32', // BOOL @8
    ResiliencyGuid: GUID, // @12, size 28
  });
  const ATTACH_VIRTUAL_DISK_PARAMETERS = k.struct('ATTACH_VIRTUAL_DISK_PARAMETERS', {
    Version: 'uint32',
    _unionPadding: 'uint32',
    RestrictedOffset: 'uint64', // @8 (version 1's Reserved shares it)
    RestrictedLength: 'uint64', // @16, size 24
  });
  declared = {
    GUID,
    VIRTUAL_STORAGE_TYPE,
    CREATE_VIRTUAL_DISK_PARAMETERS,
    OPEN_VIRTUAL_DISK_PARAMETERS,
    ATTACH_VIRTUAL_DISK_PARAMETERS,
  };
  return declared;
}
