import { takeLocalString } from '../shared/kernel32.js';
import type { Pointer } from '../shared/koffi-module.js';
import { computeCoreType } from '../shared/koffi-types.js';
import { LazyLibrary } from '../shared/lazy-library.js';
import type { HResult } from '../shared/types.js';
import { COMPUTESTORAGE_PROTOTYPES, type ComputeStorageFunctionName } from './prototypes.js';
import type { StorageApi, VirtualDiskHandle } from './types.js';

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
    this.#lib.load();
    computeCoreType('HRESULT'); // the prototypes use the alias
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
    return { hr, path: takeLocalString(out[0] ?? null) };
  }

  setupBaseOSVolume(layerPath: string, volumePath: string, options: string): Promise<HResult> {
    return this.#lib.call('HcsSetupBaseOSVolume', [layerPath, volumePath, options]);
  }
}
