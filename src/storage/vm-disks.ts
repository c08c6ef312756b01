import { rm } from 'node:fs/promises';
import { exists } from '../internal/fs.js';
import { storageBindings } from '../native/index.js';
import { ScratchLayerStateError } from './errors.js';
import { checkAbsolutePath } from './layers.js';
import { checkWin32, closeDisk, requireHandle } from './scratch.js';

/**
 * The OS disk of a VM sandbox: a differencing VHDX over a VM image's base
 * disk, so every sandbox writes its own copy-on-write layer and the base is
 * never written (VM-SANDBOXES.md §1c, the route NanaBox, appsandbox and
 * disco-vm boot). CreateVirtualDisk with `CREATE_VIRTUAL_DISK_PARAMETERS`
 * version 2 and a `ParentPath`: the size comes from the parent (0 here),
 * and the handle is closed at once, since the VM opens the disk itself.
 *
 * @see https://learn.microsoft.com/windows/win32/api/virtdisk/nf-virtdisk-createvirtualdisk
 */
export async function createDifferencingDisk(path: string, parentPath: string): Promise<void> {
  checkAbsolutePath(path, 'path');
  checkAbsolutePath(parentPath, 'parentPath');
  if (await exists(path)) {
    throw new ScratchLayerStateError(path, `${path} already exists: remove the sandbox's disks first.`);
  }
  if (!(await exists(parentPath))) {
    throw new ScratchLayerStateError(parentPath, `the parent disk ${parentPath} does not exist.`);
  }
  const { virtDisk } = storageBindings();
  const disk = await virtDisk.createVirtualDisk(path, { maximumSizeBytes: 0n, parentPath });
  checkWin32(disk.error, 'CreateVirtualDisk');
  const handle = requireHandle(disk.handle, 'CreateVirtualDisk');
  try {
    await closeDisk(handle);
  } catch (error) {
    await deleteVmFile(path).catch(() => undefined);
    throw error;
  }
}

/**
 * Deletes one of a VM sandbox's files (its disk or state files); a file that
 * is not there is not an error. The VM worker can hold a file for a moment
 * after its VM stopped, so a busy file is retried briefly (Node's own retry).
 */
export async function deleteVmFile(path: string): Promise<void> {
  checkAbsolutePath(path, 'path');
  await rm(path, { force: true, maxRetries: 5, retryDelay: 200 });
}
