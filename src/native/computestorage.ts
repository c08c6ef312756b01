import type { LibraryHandle } from 'koffi';
import { FunctionUnavailableError } from './errors.js';
import { kernel32 } from './kernel32.js';
import { koffi } from './koffi-module.js';
import { computeCoreTypes } from './koffi-types.js';
import { loadSystemLibrary } from './library.js';
import { COMPUTESTORAGE_PROTOTYPES, type ComputeStorageFunctionName } from './storage-prototypes.js';
import type { StorageApi, VirtualDiskHandle } from './storage-types.js';
import type { HResult } from './types.js';

type KoffiFunction = ReturnType<LibraryHandle['func']>;
type Pointer = bigint | null;

/**
 * Binds the functions of one DLL on first call, so a missing export fails only
 * the feature that needs it, and runs every call on koffi's worker pool.
 */
export class LazyLibrary<Name extends string> {
  readonly #name: string;
  readonly #prototypes: Record<Name, { signature: string; minimumBuild?: string }>;
  readonly #functions = new Map<Name, KoffiFunction | null>();
  #lib: LibraryHandle | undefined;

  constructor(name: string, prototypes: Record<Name, { signature: string; minimumBuild?: string }>) {
    this.#name = name;
    this.#prototypes = prototypes;
  }

  load(): void {
    this.#lib ??= loadSystemLibrary(this.#name);
  }

  has(name: string): boolean {
    return name in this.#prototypes && this.#bind(name as Name) !== null;
  }

  #bind(name: Name): KoffiFunction | null {
    if (!this.#functions.has(name)) {
      this.load();
      let fn: KoffiFunction | null = null;
      try {
        fn = (this.#lib as LibraryHandle).func(this.#prototypes[name].signature);
      } catch {
        fn = null; // not exported by this build
      }
      this.#functions.set(name, fn);
    }
    return this.#functions.get(name) ?? null;
  }

  /** Calls `name` off the main thread. */
  call<T>(name: Name, args: unknown[]): Promise<T> {
    let fn: KoffiFunction | null;
    try {
      fn = this.#bind(name);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!fn) {
      return Promise.reject(
        new FunctionUnavailableError(this.#name, name, this.#prototypes[name].minimumBuild),
      );
    }
    const bound = fn;
    return new Promise<T>((resolve, reject) => {
      bound.async(...args, (error: unknown, result: T) => (error ? reject(error) : resolve(result)));
    });
  }
}

/**
 * computestorage.dll through koffi (container layers; all synchronous HRESULT
 * calls, run on koffi's worker pool). Loaded on first use, never at import.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsimportlayer
 */
export class KoffiComputeStorage implements StorageApi {
  readonly #lib = new LazyLibrary<ComputeStorageFunctionName>(
    'computestorage.dll',
    COMPUTESTORAGE_PROTOTYPES,
  );

  constructor() {
    computeCoreTypes(); // declares the HRESULT alias the prototypes use
    this.#lib.load();
  }

  hasFunction(name: string): boolean {
    return this.#lib.has(name);
  }

  importLayer(layerPath: string, sourceFolderPath: string, layerData: string): Promise<HResult> {
    return this.#lib.call('HcsImportLayer', [layerPath, sourceFolderPath, layerData]);
  }

  exportLayer(
    layerPath: string,
    exportFolderPath: string,
    layerData: string,
    options: string | null,
  ): Promise<HResult> {
    return this.#lib.call('HcsExportLayer', [layerPath, exportFolderPath, layerData, options]);
  }

  exportLegacyWritableLayer(
    writableLayerMountPath: string,
    writableLayerFolderPath: string,
    exportFolderPath: string,
    layerData: string,
  ): Promise<HResult> {
    return this.#lib.call('HcsExportLegacyWritableLayer', [
      writableLayerMountPath,
      writableLayerFolderPath,
      exportFolderPath,
      layerData,
    ]);
  }

  destroyLayer(layerPath: string): Promise<HResult> {
    return this.#lib.call('HcsDestroyLayer', [layerPath]);
  }

  setupBaseOSLayer(layerPath: string, vhd: VirtualDiskHandle | null, options: string): Promise<HResult> {
    return this.#lib.call('HcsSetupBaseOSLayer', [layerPath, vhd, options]);
  }

  initializeWritableLayer(
    writableLayerPath: string,
    layerData: string,
    options: string | null,
  ): Promise<HResult> {
    return this.#lib.call('HcsInitializeWritableLayer', [writableLayerPath, layerData, options]);
  }

  initializeLegacyWritableLayer(
    writableLayerMountPath: string,
    writableLayerFolderPath: string,
    layerData: string,
    options: string | null,
  ): Promise<HResult> {
    return this.#lib.call('HcsInitializeLegacyWritableLayer', [
      writableLayerMountPath,
      writableLayerFolderPath,
      layerData,
      options,
    ]);
  }

  attachLayerStorageFilter(layerPath: string, layerData: string): Promise<HResult> {
    return this.#lib.call('HcsAttachLayerStorageFilter', [layerPath, layerData]);
  }

  detachLayerStorageFilter(layerPath: string): Promise<HResult> {
    return this.#lib.call('HcsDetachLayerStorageFilter', [layerPath]);
  }

  formatWritableLayerVhd(vhd: VirtualDiskHandle): Promise<HResult> {
    return this.#lib.call('HcsFormatWritableLayerVhd', [vhd]);
  }

  async getLayerVhdMountPath(vhd: VirtualDiskHandle): Promise<{ hr: HResult; path: string | null }> {
    const out: [Pointer] = [null];
    const hr = await this.#lib.call<HResult>('HcsGetLayerVhdMountPath', [vhd, out]);
    return { hr, path: takeString(out[0] ?? null) };
  }

  setupBaseOSVolume(layerPath: string, volumePath: string, options: string): Promise<HResult> {
    return this.#lib.call('HcsSetupBaseOSVolume', [layerPath, volumePath, options]);
  }
}

/** Decodes a string computestorage allocated and frees it with LocalFree, as documented. */
function takeString(pointer: Pointer): string | null {
  if (!pointer) return null;
  try {
    return koffi().decode.string16(pointer);
  } finally {
    kernel32().localFree(pointer);
  }
}
