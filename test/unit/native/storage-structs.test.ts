import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { guidStruct } from '../../../src/native/shared/guid.js';
import { virtDiskTypes } from '../../../src/native/storage/structs.js';
import { hresultFromWin32 } from '../../../src/native/storage/types.js';

// The real SDK layouts for x64 (HCS-NOTES §1.5). koffi's Linux build computes
// the same natural alignment as MSVC for these types (no long/wchar_t in them).
describe('virtdisk structs sit at the SDK offsets', () => {
  const t = virtDiskTypes();

  it('VIRTUAL_STORAGE_TYPE', () => {
    expect(koffi.sizeof(t.VIRTUAL_STORAGE_TYPE)).toBe(20);
    expect(koffi.alignof(t.VIRTUAL_STORAGE_TYPE)).toBe(4);
    expect(koffi.offsetof(t.VIRTUAL_STORAGE_TYPE, 'VendorId')).toBe(4);
    expect(koffi.sizeof(t.GUID)).toBe(16);
  });

  it('CREATE_VIRTUAL_DISK_PARAMETERS version 2 (not MinGW’s layout)', () => {
    const s = t.CREATE_VIRTUAL_DISK_PARAMETERS;
    const offsets = Object.fromEntries(
      [
        'Version',
        'UniqueId',
        'MaximumSize',
        'BlockSizeInBytes',
        'SectorSizeInBytes',
        'PhysicalSectorSizeInBytes',
        'ParentPath',
        'SourcePath',
        'OpenFlags',
        'ParentVirtualStorageType',
        'SourceVirtualStorageType',
        'ResiliencyGuid',
      ].map((f) => [f, koffi.offsetof(s, f)]),
    );
    expect(offsets).toEqual({
      Version: 0,
      UniqueId: 8,
      MaximumSize: 24,
      BlockSizeInBytes: 32,
      SectorSizeInBytes: 36,
      PhysicalSectorSizeInBytes: 40,
      ParentPath: 48,
      SourcePath: 56,
      OpenFlags: 64,
      ParentVirtualStorageType: 68,
      SourceVirtualStorageType: 88,
      ResiliencyGuid: 108,
    });
    expect(koffi.sizeof(s)).toBe(128);
  });

  it('OPEN_VIRTUAL_DISK_PARAMETERS version 2', () => {
    const s = t.OPEN_VIRTUAL_DISK_PARAMETERS;
    expect(koffi.offsetof(s, 'GetInfoOnly')).toBe(4);
    expect(koffi.offsetof(s, 'ReadOnly')).toBe(8);
    expect(koffi.offsetof(s, 'ResiliencyGuid')).toBe(12);
    expect(koffi.sizeof(s)).toBe(28);
  });

  it('ATTACH_VIRTUAL_DISK_PARAMETERS version 2', () => {
    const s = t.ATTACH_VIRTUAL_DISK_PARAMETERS;
    expect(koffi.offsetof(s, 'RestrictedOffset')).toBe(8);
    expect(koffi.offsetof(s, 'RestrictedLength')).toBe(16);
    expect(koffi.sizeof(s)).toBe(24);
  });

  it('encodes a GUID string into Data1-4 (the vendor id of VHDX)', () => {
    const g = guidStruct('ec984aec-a0f9-47e9-901f-71415a66345b');
    expect(g).toEqual({
      Data1: 0xec984aec,
      Data2: 0xa0f9,
      Data3: 0x47e9,
      Data4: [0x90, 0x1f, 0x71, 0x41, 0x5a, 0x66, 0x34, 0x5b],
    });
    const buf = Buffer.alloc(16);
    koffi.encode(buf, t.GUID, g);
    expect(buf.toString('hex')).toBe('ec4a98ecf9a0e947901f71415a66345b');
    expect(guidStruct(undefined).Data1).toBe(0);
    expect(() => guidStruct('nope')).toThrow(TypeError);
  });
});

describe('hresultFromWin32', () => {
  it('maps Win32 codes into FACILITY_WIN32 and keeps codes that are already HRESULT-shaped', () => {
    expect(hresultFromWin32(0)).toBe(0);
    expect(hresultFromWin32(5) >>> 0).toBe(0x80070005);
    expect(hresultFromWin32(1168) >>> 0).toBe(0x80070490);
    expect(hresultFromWin32(0xc03a0015) >>> 0).toBe(0xc03a0015); // ERROR_VIRTDISK_NOT_VIRTUAL_DISK
    expect(hresultFromWin32(5)).toBeLessThan(0);
  });
});
