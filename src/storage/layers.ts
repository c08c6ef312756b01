import { isAbsolute } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HcsError } from '../hcs/errors.js';
import { InvalidArgumentError } from '../internal/errors.js';
import { type HResult, storageBindings } from '../native/index.js';
import type { Hcs } from '../schema/index.js';
import { defaultLayerId } from './images/layer-id.js';
import type { LayerImporter, LayerRef } from './types.js';

const GUID = /^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$/;

/**
 * The GUID HCS knows a layer folder by (`Layer.Id`). hcsshim uses
 * `vmcompute.dll!NameToGuid(basename)`, whose algorithm is not public; this is
 * the project-wide stand-in (a UUIDv5 of the basename, see
 * `storage/images/layer-id.ts`), deterministic for every hcs-sandbox caller but
 * NOT known to equal NameToGuid (docs/storage.md, "Layers and scratch").
 */
export function layerIdFromPath(path: string): string {
  return defaultLayerId(path);
}

/** A {@link LayerRef} for a layer folder, its id derived with {@link layerIdFromPath}. */
export function layerRef(path: string): LayerRef {
  return { id: layerIdFromPath(path), path };
}

/** Throws {@link InvalidArgumentError} unless `path` is an absolute path. */
export function checkAbsolutePath(path: unknown, field: string): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || !isAbsolute(path) || path.includes('\0')) {
    throw new InvalidArgumentError(field, 'an absolute path', path);
  }
}

/** Throws {@link InvalidArgumentError} naming the bad entry unless `parents` is a valid chain. */
export function checkLayers(parents: unknown, field = 'parents'): asserts parents is LayerRef[] {
  if (!Array.isArray(parents))
    throw new InvalidArgumentError(field, 'an array of { id, path } layers', parents);
  parents.forEach((layer: unknown, i) => {
    if (!layer || typeof layer !== 'object') {
      throw new InvalidArgumentError(`${field}[${i}]`, 'a { id, path } layer', layer);
    }
    const { id, path } = layer as Partial<LayerRef>;
    if (typeof id !== 'string' || !GUID.test(id)) {
      throw new InvalidArgumentError(
        `${field}[${i}].id`,
        'a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)',
        id,
      );
    }
    checkAbsolutePath(path, `${field}[${i}].path`);
  });
}

/**
 * The `LayerData` document computestorage takes: the parent chain, nearest
 * parent first and the base layer last (hcsshim sends `Id` and `Path` only).
 */
export function buildLayerData(parents: readonly LayerRef[]): Hcs.LayerData {
  return {
    SchemaVersion: { Major: 2, Minor: 1 },
    Layers: parents.map((layer) => ({ Id: layer.id, Path: layer.path })),
  };
}

/** Throws {@link HcsError} (with the function name as `operation`) when `hr` is a failure. */
export function checkHResult(hr: HResult, operation: string): void {
  if (hr < 0) throw new HcsError({ hresult: hr, operation });
}

/**
 * Imports a layer in transport form (`sourcePath` holds `Files\` and, for a
 * base layer, `Hives\`...) into `layerPath` on top of `parents`
 * (`HcsImportLayer`). Matches {@link LayerImporter}.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsimportlayer
 */
export const importLayer: LayerImporter = async (layerPath, sourcePath, parents) => {
  checkAbsolutePath(layerPath, 'layerPath');
  checkAbsolutePath(sourcePath, 'sourcePath');
  checkLayers(parents);
  const hr = await storageBindings().storage.importLayer(
    layerPath,
    sourcePath,
    JSON.stringify(buildLayerData(parents)),
  );
  checkHResult(hr, 'HcsImportLayer');
};

export interface ExportLayerOptions {
  /**
   * The layer is a writable (scratch) layer, e.g. a prepared sandbox's, being
   * turned into an image layer (`ExportLayerOptions.IsWritableLayer`).
   */
  writable?: boolean;
}

/**
 * Writes `layerPath` in transport form to `exportPath` (`HcsExportLayer`), so a
 * prepared sandbox's writable layer can become an image layer.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsexportlayer
 */
export async function exportLayer(
  layerPath: string,
  exportPath: string,
  parents: LayerRef[],
  options: ExportLayerOptions = {},
): Promise<void> {
  checkAbsolutePath(layerPath, 'layerPath');
  checkAbsolutePath(exportPath, 'exportPath');
  checkLayers(parents);
  if (options.writable !== undefined && typeof options.writable !== 'boolean') {
    throw new InvalidArgumentError('writable', 'a boolean', options.writable);
  }
  const exportOptions: Hcs.ExportLayerOptions = { IsWritableLayer: options.writable ?? false };
  const hr = await storageBindings().storage.exportLayer(
    layerPath,
    exportPath,
    JSON.stringify(buildLayerData(parents)),
    JSON.stringify(exportOptions),
  );
  checkHResult(hr, 'HcsExportLayer');
}

/**
 * Deletes a layer folder with the backup/restore rights layer files need
 * (`HcsDestroyLayer`). A folder that does not exist is not an error.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsdestroylayer
 */
export async function destroyLayer(path: string): Promise<void> {
  checkAbsolutePath(path, 'path');
  let hr = await storageBindings().storage.destroyLayer(path);
  // A file whose last handle is closing (a just-detached disk, an indexer or a
  // scanner) keeps its folder "not empty" or "in use" for a moment: retry briefly.
  for (const waitMs of [50, 200, 800]) {
    if (!isTransient(hr)) break;
    await sleep(waitMs);
    hr = await storageBindings().storage.destroyLayer(path);
  }
  if (isNotFound(hr)) return;
  checkHResult(hr, 'HcsDestroyLayer');
}

/** ERROR_DIR_NOT_EMPTY / ERROR_SHARING_VIOLATION as HRESULTs: worth another try. */
function isTransient(hr: HResult): boolean {
  const u = hr >>> 0;
  return u === 0x80070091 || u === 0x80070020;
}

/** ERROR_FILE_NOT_FOUND / ERROR_PATH_NOT_FOUND as HRESULTs. */
export function isNotFound(hr: HResult): boolean {
  const u = hr >>> 0;
  return u === 0x80070002 || u === 0x80070003;
}
