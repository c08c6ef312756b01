import { KoffiComputeStorage } from './computestorage.js';
import type { StorageApi, VirtDiskApi } from './types.js';
import { KoffiVirtDisk } from './virtdisk.js';

/** What the storage layer gets from the native layer. */
export interface StorageBindings {
  storage: StorageApi;
  virtDisk: VirtDiskApi;
}

let current: StorageBindings | undefined;
let storage: StorageApi | undefined;
let virtDisk: VirtDiskApi | undefined;

/**
 * The storage bindings, each DLL loaded on first use of its half (importing a
 * layer needs no virtdisk.dll). The factory seam of `core/provider.ts`: unit tests
 * install an in-memory implementation with {@link setStorageBindings}.
 */
export function storageBindings(): StorageBindings {
  if (current) return current;
  return {
    get storage(): StorageApi {
      storage ??= new KoffiComputeStorage();
      return storage;
    },
    get virtDisk(): VirtDiskApi {
      virtDisk ??= new KoffiVirtDisk();
      return virtDisk;
    },
  };
}

/** Replaces the storage bindings (tests), or resets to the real ones with `undefined`. */
export function setStorageBindings(bindings: StorageBindings | undefined): void {
  current = bindings;
}
