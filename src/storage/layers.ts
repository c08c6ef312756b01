import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HcsError } from '../hcs/errors.js';
import { InvalidArgumentError } from '../internal/errors.js';
import { exists } from '../internal/fs.js';
import { asLongCall } from '../internal/long-calls.js';
import {
  FunctionUnavailableError,
  type HResult,
  hresultFromWin32,
  nativeBindings,
  OpenVirtualDiskFlag,
  storageBindings,
  type VirtualDiskHandle,
} from '../native/index.js';
import type { Hcs } from '../schema/index.js';
import { LayerNotRemovedError } from './errors.js';
import { defaultLayerId } from './images/layer-id.js';
import { checkAbsolutePath } from './paths.js';
import { enableBackupRestore, requireElevation } from './privileges.js';
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

export { checkAbsolutePath };

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
  enableBackupRestore('HcsImportLayer');
  const hr = await asLongCall(() =>
    storageBindings().storage.importLayer(layerPath, sourcePath, JSON.stringify(buildLayerData(parents))),
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
  enableBackupRestore('HcsExportLayer');
  const hr = await asLongCall(() =>
    storageBindings().storage.exportLayer(
      layerPath,
      exportPath,
      JSON.stringify(buildLayerData(parents)),
      JSON.stringify(exportOptions),
    ),
  );
  checkHResult(hr, 'HcsExportLayer');
}

/** Waits between the HcsDestroyLayer calls of one destroy (a transient refusal, or a folder left behind). */
const DESTROY_RETRY_MS = [50, 200, 800];

/**
 * Deletes a layer folder with the backup/restore rights layer files need
 * (`HcsDestroyLayer`), then checks that it is gone: HcsDestroyLayer can report
 * success and leave the tree (measured: hcsctl docs/findings.md), so a folder
 * still there is destroyed again, briefly, and then reported as
 * {@link LayerNotRemovedError}. Never a plain delete: restored security
 * descriptors refuse it. A folder that does not exist is not an error.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsdestroylayer
 */
export async function destroyLayer(path: string): Promise<void> {
  checkAbsolutePath(path, 'path');
  enableBackupRestore('HcsDestroyLayer');
  const destroy = () => storageBindings().storage.destroyLayer(path);
  let hr = await destroy();
  // A file whose last handle is closing (a just-detached disk, an indexer or a
  // scanner) keeps its folder "not empty" or "in use" for a moment: retry briefly.
  for (const waitMs of DESTROY_RETRY_MS) {
    if (!isTransient(hr) && !(hr >= 0 && (await exists(path)))) break;
    await sleep(waitMs);
    hr = await destroy();
  }
  if (isNotFound(hr)) return;
  checkHResult(hr, 'HcsDestroyLayer');
  if (await exists(path)) throw new LayerNotRemovedError(path);
}

/** Template disks of a base layer, as hcsshim names them (internal/wclayer/legacy.go). */
const CONTAINER_BASE_VHD = 'blank-base.vhdx';
const CONTAINER_DIFF_VHD = 'blank.vhdx';
const UVM_BASE_VHD = 'SystemTemplateBase.vhdx';
const UVM_DIFF_VHD = 'SystemTemplate.vhdx';
/**
 * GUESS: maximum sizes of the (dynamic) template disks. hcsshim's helpers take
 * the size from their caller; 20 GiB is what a default scratch gives a
 * container (measured: hcsctl docs/findings.md, "Scratch sizing").
 */
const CONTAINER_TEMPLATE_GB = 20n;
const UVM_TEMPLATE_GB = 10n;
const TEMPLATE_BLOCK_BYTES = 1024 * 1024;

/**
 * Makes a base layer (one without parents) usable, once it is in its final
 * place: a differencing disk records its parent's absolute path, so this runs
 * after the layer is moved into the store, never before. The steps of hcsshim's
 * `computestorage/helpers.go` (SetupContainerBaseLayer, SetupUtilityVMBaseLayer):
 *
 * 1. remove `Hives\` and `Layout`, which HcsSetupBaseOSLayer regenerates and
 *    refuses to overwrite (ERROR_ALREADY_EXISTS, measured by hcsctl);
 * 2. create and format `blank-base.vhdx`, close it, HcsSetupBaseOSLayer
 *    `{"Type":"Container"}` on the layer, create the differencing `blank.vhdx`;
 * 3. when `UtilityVM\Files` exists: create `UtilityVM\SystemTemplateBase.vhdx`,
 *    attach it, HcsSetupBaseOSLayer `{"Type":"Vm"}` on `<layer>\UtilityVM`
 *    (`UtilityVM\Files` gives ERROR_GEN_FAILURE, measured by hcsctl), detach,
 *    create the differencing `SystemTemplate.vhdx`;
 * 4. HcsGrantVmGroupAccess on each template disk, so a utility VM can open them.
 */
export async function setupBaseLayer(path: string): Promise<void> {
  checkAbsolutePath(path, 'path');
  requireElevation('HcsSetupBaseOSLayer');
  const { storage } = storageBindings();
  await rm(join(path, 'Hives'), { recursive: true, force: true });
  await rm(join(path, 'Layout'), { recursive: true, force: true });

  const base = join(path, CONTAINER_BASE_VHD);
  const diff = join(path, CONTAINER_DIFF_VHD);
  const handle = await createTemplateDisk(base, diff, CONTAINER_TEMPLATE_GB);
  try {
    checkHResult(await storage.formatWritableLayerVhd(handle), 'HcsFormatWritableLayerVhd');
  } finally {
    await closeTemplateDisk(handle); // closed before setup: Container takes no handle
  }
  checkHResult(
    await asLongCall(() => storage.setupBaseOSLayer(path, null, JSON.stringify({ Type: 'Container' }))),
    'HcsSetupBaseOSLayer',
  );
  await createDiffDisk(diff, base);
  await grantVmGroupAccess([base, diff]);

  const uvm = join(path, 'UtilityVM');
  if (!(await exists(join(uvm, 'Files')))) return;
  const uvmBase = join(uvm, UVM_BASE_VHD);
  const uvmDiff = join(uvm, UVM_DIFF_VHD);
  const uvmHandle = await createTemplateDisk(uvmBase, uvmDiff, UVM_TEMPLATE_GB);
  try {
    const { virtDisk } = storageBindings();
    checkWin32(await virtDisk.attachVirtualDisk(uvmHandle, 0), 'AttachVirtualDisk');
    try {
      checkHResult(
        await asLongCall(() => storage.setupBaseOSLayer(uvm, uvmHandle, JSON.stringify({ Type: 'Vm' }))),
        'HcsSetupBaseOSLayer',
      );
    } finally {
      checkWin32(await virtDisk.detachVirtualDisk(uvmHandle), 'DetachVirtualDisk');
    }
  } finally {
    await closeTemplateDisk(uvmHandle);
  }
  await createDiffDisk(uvmDiff, uvmBase);
  await grantVmGroupAccess([uvmBase, uvmDiff]);
}

/** Creates a fresh template base disk (any earlier pair is removed first, as hcsshim does). */
async function createTemplateDisk(base: string, diff: string, sizeGB: bigint): Promise<VirtualDiskHandle> {
  await rm(base, { force: true });
  await rm(diff, { force: true });
  const disk = await storageBindings().virtDisk.createVirtualDisk(base, {
    maximumSizeBytes: sizeGB * 2n ** 30n,
    blockSizeBytes: TEMPLATE_BLOCK_BYTES,
  });
  checkWin32(disk.error, 'CreateVirtualDisk');
  if (!disk.handle) throw new HcsError({ hresult: E_UNEXPECTED, operation: 'CreateVirtualDisk' });
  return disk.handle;
}

/** A differencing disk over `parent` (go-winio vhd.CreateDiffVhd: ParentPath, 1 MiB blocks, cached parent IO). */
async function createDiffDisk(path: string, parent: string): Promise<void> {
  const disk = await storageBindings().virtDisk.createVirtualDisk(path, {
    maximumSizeBytes: 0n,
    blockSizeBytes: TEMPLATE_BLOCK_BYTES,
    parentPath: parent,
    openFlags: OpenVirtualDiskFlag.CachedIo,
  });
  checkWin32(disk.error, 'CreateVirtualDisk');
  if (disk.handle) await closeTemplateDisk(disk.handle);
}

async function closeTemplateDisk(handle: VirtualDiskHandle): Promise<void> {
  if (!(await storageBindings().virtDisk.closeHandle(handle))) {
    throw new HcsError({ hresult: hresultFromWin32(6 /* ERROR_INVALID_HANDLE */), operation: 'CloseHandle' });
  }
}

/**
 * HcsGrantVmGroupAccess on each file. Builds before 19041 lack it; there only
 * process isolation can use the layer, which needs no VM access, so it is skipped.
 */
async function grantVmGroupAccess(files: readonly string[]): Promise<void> {
  const { computeCore } = nativeBindings();
  for (const file of files) {
    try {
      checkHResult(await computeCore.grantVmGroupAccess(file), 'HcsGrantVmGroupAccess');
    } catch (error) {
      if (error instanceof FunctionUnavailableError) return;
      throw error;
    }
  }
}

function checkWin32(error: number, operation: string): void {
  if (error !== 0) throw new HcsError({ hresult: hresultFromWin32(error), operation });
}

const E_UNEXPECTED = 0x8000ffff | 0;

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
