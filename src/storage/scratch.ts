import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HcsError } from '../hcs/errors.js';
import { InvalidArgumentError } from '../internal/errors.js';
import { exists } from '../internal/fs.js';
import {
  AttachVirtualDiskFlag,
  hresultFromWin32,
  storageBindings,
  type VirtualDiskHandle,
  type Win32Error,
} from '../native/index.js';
import { ElevationRequiredError, InsufficientSpaceError, ScratchLayerStateError } from './errors.js';
import { detachStorageFilter, isNothingToDetach } from './filter-detach.js';
import { buildLayerData, checkAbsolutePath, checkHResult, checkLayers, destroyLayer } from './layers.js';
import { requireElevation } from './privileges.js';
/** The file a scratch layer folder holds (hcsshim's name). */
import { SCRATCH_VHDX } from './scratch-size.js';
import { freeSpace } from './space.js';
import type { LayerRef, Progress } from './types.js';
import { type UndoStack, withUndo } from './undo.js';

export { SCRATCH_VHDX, scratchSize } from './scratch-size.js';

/** Block size of the scratch VHDX, as hcsshim creates it. */
const BLOCK_SIZE_BYTES = 1024 * 1024;
const MIN_SIZE_GB = 1;
const MAX_SIZE_GB = 1024;
const ATTACH_FLAGS = AttachVirtualDiskFlag.NoDriveLetter | AttachVirtualDiskFlag.PermanentLifetime;

export interface CreateScratchLayerOptions {
  /** Absolute folder for the layer; created, and must not already hold a scratch disk. */
  dir: string;
  /** Maximum size of the (dynamic) scratch disk, in GiB, 1..1024. */
  sizeGB: number;
  /** The read-only layers under it, nearest parent first, base OS layer last. */
  parents: LayerRef[];
}

export interface ScratchCallOptions {
  /** Aborts between native steps; whatever was allocated is undone. A native call in flight finishes first. */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

/** A mounted writable layer: the volume a container uses as `Container.Storage.Path`. */
export interface ScratchLayer {
  readonly dir: string;
  readonly vhdxPath: string;
  /** `\\?\Volume{GUID}\`, always with its trailing backslash (on the simulated host, a folder). */
  readonly volumePath: string;
  readonly parents: readonly LayerRef[];
}

interface Mounted {
  layer: ScratchLayer;
  handle: VirtualDiskHandle;
}

/** Scratch layers this process mounted, by folder: the disk handle stays open while mounted. */
const mounted = new Map<string, Mounted>();
/** Disks attached by a create/mount still in progress (their undo has not detached them). */
const attached = new Set<string>();

/**
 * Creates a writable (scratch) layer in `dir` and mounts it: CreateVirtualDisk
 * (`dir\sandbox.vhdx`, VHDX v2, 1 MiB blocks) → HcsFormatWritableLayerVhd →
 * AttachVirtualDisk (no drive letter, permanent) → HcsGetLayerVhdMountPath →
 * HcsInitializeWritableLayer → HcsAttachLayerStorageFilter. Every allocation
 * registers its undo, so a failure at any step leaves nothing behind: no
 * folder, no attached disk or filter, no open handle.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsinitializewritablelayer
 */
export async function createScratchLayer(
  options: CreateScratchLayerOptions,
  call: ScratchCallOptions = {},
): Promise<ScratchLayer> {
  const { dir, sizeGB, parents } = checkCreateOptions(options);
  call.signal?.throwIfAborted();
  requireElevation('createScratchLayer');
  const requestedBytes = sizeGB * 2 ** 30;
  const space = await freeSpace(dir);
  if (space.freeBytes < requestedBytes) {
    throw new InsufficientSpaceError(space.volume, space.freeBytes, requestedBytes);
  }
  const vhdxPath = join(dir, SCRATCH_VHDX);
  if (mounted.has(key(dir)) || (await exists(vhdxPath))) {
    throw new ScratchLayerStateError(
      dir,
      `${vhdxPath} already exists: mount it with mountScratchLayer, or remove it with destroyScratchLayer.`,
    );
  }
  const { storage, virtDisk } = storageBindings();
  const layerData = JSON.stringify(buildLayerData(parents));
  const progress = stepper(dir, 6, call);

  return withUndo(async (undo) => {
    const created = await mkdir(dir, { recursive: true });
    // If the disk could not be detached, keep its folder: destroyScratchLayer can finish the job.
    undo.push('mkdir', () => (attached.has(vhdxPath) ? undefined : removeCreated(dir, created, vhdxPath)));
    progress('create-disk');
    const disk = await virtDisk.createVirtualDisk(vhdxPath, {
      maximumSizeBytes: BigInt(sizeGB) * 2n ** 30n,
      blockSizeBytes: BLOCK_SIZE_BYTES,
    });
    checkWin32(disk.error, 'CreateVirtualDisk');
    const handle = requireHandle(disk.handle, 'CreateVirtualDisk');
    pushClose(undo, handle);

    progress('format');
    checkHResult(await storage.formatWritableLayerVhd(handle), 'HcsFormatWritableLayerVhd');

    const layer = await mountSteps(undo, dir, vhdxPath, handle, parents, layerData, progress, true);
    attached.delete(vhdxPath);
    mounted.set(key(dir), { layer, handle });
    return layer;
  });
}

/**
 * Mounts an existing (persistent) scratch layer again, e.g. in a new process:
 * OpenVirtualDisk → AttachVirtualDisk → HcsGetLayerVhdMountPath →
 * HcsAttachLayerStorageFilter, undone in reverse on failure.
 */
export async function mountScratchLayer(
  dir: string,
  parents: LayerRef[],
  call: ScratchCallOptions = {},
): Promise<ScratchLayer> {
  checkAbsolutePath(dir, 'dir');
  checkLayers(parents);
  call.signal?.throwIfAborted();
  requireElevation('mountScratchLayer');
  const vhdxPath = join(dir, SCRATCH_VHDX);
  if (mounted.has(key(dir))) {
    throw new ScratchLayerStateError(dir, `The scratch layer in ${dir} is already mounted by this process.`);
  }
  if (!(await exists(vhdxPath))) {
    throw new ScratchLayerStateError(dir, `${vhdxPath} does not exist: create it with createScratchLayer.`);
  }
  const { virtDisk } = storageBindings();
  const layerData = JSON.stringify(buildLayerData(parents));
  const progress = stepper(dir, 4, call);

  return withUndo(async (undo) => {
    progress('open-disk');
    const disk = await virtDisk.openVirtualDisk(vhdxPath);
    checkWin32(disk.error, 'OpenVirtualDisk');
    const handle = requireHandle(disk.handle, 'OpenVirtualDisk');
    pushClose(undo, handle);
    const layer = await mountSteps(undo, dir, vhdxPath, handle, parents, layerData, progress, false);
    attached.delete(vhdxPath);
    mounted.set(key(dir), { layer, handle });
    return layer;
  });
}

/**
 * Unmounts a scratch layer this process mounted: HcsDetachLayerStorageFilter →
 * DetachVirtualDisk → CloseHandle. The disk file stays (mount it again with
 * {@link mountScratchLayer}). Every step is attempted and the handle is always
 * closed; the first failure is thrown. Unmounting twice is a no-op. The filter
 * detach is retried while it refuses, as it does for a few seconds after the
 * container on the volume stopped (see `DETACH_RETRY` in filter-detach.ts).
 */
export async function unmountScratchLayer(layer: ScratchLayer): Promise<void> {
  const entry = mounted.get(key(layer.dir));
  if (!entry) return;
  mounted.delete(key(layer.dir));
  const { virtDisk } = storageBindings();
  const errors: unknown[] = [];
  try {
    checkHResult(await detachStorageFilter(entry.layer.volumePath), 'HcsDetachLayerStorageFilter');
  } catch (error) {
    errors.push(error);
  }
  try {
    checkWin32(await virtDisk.detachVirtualDisk(entry.handle), 'DetachVirtualDisk');
  } catch (error) {
    errors.push(error);
  }
  try {
    await closeDisk(entry.handle);
  } catch (error) {
    errors.push(error);
  }
  if (errors.length > 0) throw errors[0];
}

/**
 * Removes a scratch layer: unmounts it when this process has it mounted (or,
 * for a disk left attached by another process, detaches it), then deletes the
 * folder with HcsDestroyLayer. A folder that does not exist is not an error.
 */
export async function destroyScratchLayer(dir: string): Promise<void> {
  checkAbsolutePath(dir, 'dir');
  const entry = mounted.get(key(dir));
  if (entry) {
    await unmountScratchLayer(entry.layer);
  } else {
    await detachLeftover(join(dir, SCRATCH_VHDX));
  }
  await destroyLayer(dir);
}

/**
 * The scratch layer in `dir` if this process has it mounted. Check it before
 * probing the volume to decide whether to mount again: a layer mounted here is
 * in use, whatever a look at its volume path says.
 */
export function mountedScratchLayer(dir: string): ScratchLayer | undefined {
  return mounted.get(key(dir))?.layer;
}

/** The scratch layers this process has mounted (diagnostics). */
export function mountedScratchLayers(): ScratchLayer[] {
  return [...mounted.values()].map((m) => m.layer);
}

// Steps ------------------------------------------------------------------------------

async function mountSteps(
  undo: UndoStack,
  dir: string,
  vhdxPath: string,
  handle: VirtualDiskHandle,
  parents: LayerRef[],
  layerData: string,
  progress: (phase: string) => void,
  initialize: boolean,
): Promise<ScratchLayer> {
  const { storage, virtDisk } = storageBindings();
  progress('attach');
  checkWin32(await virtDisk.attachVirtualDisk(handle, ATTACH_FLAGS), 'AttachVirtualDisk');
  attached.add(vhdxPath);
  undo.push('AttachVirtualDisk', async () => {
    checkWin32(await virtDisk.detachVirtualDisk(handle), 'DetachVirtualDisk');
    attached.delete(vhdxPath);
  });

  progress('mount-path');
  const mount = await storage.getLayerVhdMountPath(handle);
  checkHResult(mount.hr, 'HcsGetLayerVhdMountPath');
  // A filtered (unelevated) token gets success and an empty path (measured by hcsctl).
  if (!mount.path) throw new ElevationRequiredError('HcsGetLayerVhdMountPath', ['an elevated token']);
  const volumePath = withTrailingSeparator(mount.path);

  if (initialize) {
    progress('initialize');
    checkHResult(
      await storage.initializeWritableLayer(volumePath, layerData, null),
      'HcsInitializeWritableLayer',
    );
  }

  progress('attach-filter');
  checkHResult(await storage.attachLayerStorageFilter(volumePath, layerData), 'HcsAttachLayerStorageFilter');
  undo.push('HcsAttachLayerStorageFilter', async () =>
    checkHResult(await storage.detachLayerStorageFilter(volumePath), 'HcsDetachLayerStorageFilter'),
  );
  return Object.freeze({ dir, vhdxPath, volumePath, parents: Object.freeze([...parents]) });
}

/** A disk left attached (PERMANENT_LIFETIME outlives its process): detach it before deleting the folder. */
async function detachLeftover(vhdxPath: string): Promise<void> {
  if (!(await exists(vhdxPath))) return;
  const { storage, virtDisk } = storageBindings();
  const disk = await virtDisk.openVirtualDisk(vhdxPath);
  if (disk.error !== 0 || !disk.handle) return; // not openable: HcsDestroyLayer reports what is wrong
  const handle = disk.handle;
  try {
    const mount = await storage.getLayerVhdMountPath(handle);
    if (mount.hr < 0 || !mount.path) return; // not attached
    // The filter may already be gone with its process; if it is still there it
    // may refuse for a while after its container stopped (rm right after stop).
    const hr = await detachStorageFilter(withTrailingSeparator(mount.path));
    if (hr < 0 && !isNothingToDetach(hr)) checkHResult(hr, 'HcsDetachLayerStorageFilter');
    checkWin32(await virtDisk.detachVirtualDisk(handle), 'DetachVirtualDisk');
  } finally {
    await closeDisk(handle);
  }
}

// Helpers ---------------------------------------------------------------------------

/**
 * Undo of creating the layer folder. A folder we created goes with
 * HcsDestroyLayer (what deletes layer folders; it also drops whatever the
 * platform keeps for a disk inside), then a plain delete of anything left and
 * of the parents mkdir created. A folder that existed before keeps everything
 * but our disk.
 */
async function removeCreated(dir: string, created: string | undefined, vhdxPath: string): Promise<void> {
  if (created === undefined) {
    await rm(vhdxPath, { force: true });
    return;
  }
  try {
    await destroyLayer(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    if (await exists(dir)) throw error;
  }
  await rm(created, { recursive: true, force: true });
}

const E_UNEXPECTED = 0x8000ffff | 0;

/**
 * A volume GUID path names the volume's root directory only with its trailing
 * backslash: without it, `\\?\Volume{GUID}` is the volume device, which a stat
 * or a `Storage.Path` does not treat as the folder. hcsctl appends it to every
 * volume path it is given (internal/storage/storage.go volumeJoin,
 * internal/cim/cim.go parseVolumePath); hcsshim strips it before opening the
 * device (internal/wclayer/expandscratchsize.go). Whether HcsGetLayerVhdMountPath
 * includes it is not documented, so make sure.
 */
function withTrailingSeparator(path: string): string {
  return path.endsWith('\\') || path.endsWith('/') ? path : `${path}\\`;
}

function checkCreateOptions(options: CreateScratchLayerOptions): CreateScratchLayerOptions {
  if (!options || typeof options !== 'object') {
    throw new InvalidArgumentError('options', 'an object { dir, sizeGB, parents }', options);
  }
  checkAbsolutePath(options.dir, 'dir');
  const { sizeGB } = options;
  if (
    typeof sizeGB !== 'number' ||
    !Number.isInteger(sizeGB) ||
    sizeGB < MIN_SIZE_GB ||
    sizeGB > MAX_SIZE_GB
  ) {
    throw new InvalidArgumentError('sizeGB', `an integer from ${MIN_SIZE_GB} to ${MAX_SIZE_GB}`, sizeGB);
  }
  checkLayers(options.parents);
  return options;
}

export function checkWin32(error: Win32Error, operation: string): void {
  if (error !== 0) throw new HcsError({ hresult: hresultFromWin32(error), operation });
}

export function requireHandle(handle: VirtualDiskHandle | null, operation: string): VirtualDiskHandle {
  if (!handle) throw new HcsError({ hresult: E_UNEXPECTED, operation });
  return handle;
}

function pushClose(undo: UndoStack, handle: VirtualDiskHandle): void {
  undo.push('CloseHandle', () => closeDisk(handle));
}

export async function closeDisk(handle: VirtualDiskHandle): Promise<void> {
  if (!(await storageBindings().virtDisk.closeHandle(handle))) {
    throw new HcsError({ hresult: hresultFromWin32(6 /* ERROR_INVALID_HANDLE */), operation: 'CloseHandle' });
  }
}

function stepper(item: string, total: number, call: ScratchCallOptions): (phase: string) => void {
  let done = 0;
  return (phase) => {
    call.signal?.throwIfAborted();
    call.onProgress?.({ item, phase, done: done++, total });
    call.signal?.throwIfAborted(); // a progress handler may have aborted
  };
}

function key(dir: string): string {
  const full = resolve(dir);
  return process.platform === 'win32' ? full.toLowerCase() : full;
}
