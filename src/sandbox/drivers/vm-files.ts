import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createEmptyGuestStateFile,
  createEmptyRuntimeStateFile,
  grantVmAccess,
  revokeVmAccess,
} from '../../hcs/index.js';
import { exists } from '../../internal/fs.js';
import { createDifferencingDisk, deleteVmFile, type UndoStack } from '../../storage/index.js';
import type { PrepareCallOptions } from './driver.js';

/**
 * The files of one VM sandbox, all in its scratch folder (`<root>\scratch\<name>`):
 * its OS disk differencing over the image's base disk, and the guest and
 * runtime state files HCS makes empty. The names are part of the contract
 * the VM helpers share (gc, view, the simulated host).
 */
export const VM_OS_DISK = 'os.vhdx';
export const VM_GUEST_STATE = 'vm.vmgs';
export const VM_RUNTIME_STATE = 'vm.vmrs';

export interface VmFiles {
  osDisk: string;
  guestState: string;
  runtimeState: string;
}

export function vmFilesIn(scratchDir: string): VmFiles {
  return {
    osDisk: join(scratchDir, VM_OS_DISK),
    guestState: join(scratchDir, VM_GUEST_STATE),
    runtimeState: join(scratchDir, VM_RUNTIME_STATE),
  };
}

/**
 * Makes the sandbox's files and grants the VM `vmId` every file it opens (the
 * whole disk chain, base included, and both state files: a VM opens them
 * under its own identity, HCS-NOTES and appsandbox `hcs_vm.c`). One undo step
 * per thing made, so a failure at any step leaves no file, folder or grant.
 */
export async function prepareVmFiles(
  vmId: string,
  scratchDir: string,
  baseDisk: string,
  undo: UndoStack,
  call: PrepareCallOptions,
): Promise<VmFiles> {
  const files = vmFilesIn(scratchDir);
  const steps = 5;
  let done = 0;
  const step = (phase: string) => {
    call.signal?.throwIfAborted();
    call.onProgress?.({ item: scratchDir, phase, done: done++, total: steps });
  };
  step('folder');
  const created = await mkdir(scratchDir, { recursive: true });
  // Only the sandbox's own folder: `<root>\scratch` may hold other sandboxes' by now.
  if (created !== undefined)
    undo.push('scratch folder', () => rm(scratchDir, { recursive: true, force: true }));
  step('os-disk');
  await createDifferencingDisk(files.osDisk, baseDisk);
  undo.push('OS disk', () => deleteVmFile(files.osDisk));
  step('guest-state');
  await createEmptyGuestStateFile(files.guestState);
  undo.push('guest state file', () => deleteVmFile(files.guestState));
  await createEmptyRuntimeStateFile(files.runtimeState);
  undo.push('runtime state file', () => deleteVmFile(files.runtimeState));
  step('grant');
  for (const path of [baseDisk, files.osDisk, files.guestState, files.runtimeState]) {
    await grantVmAccess(vmId, path);
    undo.push(`grant ${path}`, () => revokeVmAccess(vmId, path));
  }
  return files;
}

/**
 * Removes what {@link prepareVmFiles} made, after the VM stopped: the grant on
 * the shared base disk (the sandbox's own files go with their grants), then
 * the files and the folder. Every step is tried; the first failure is thrown.
 * Only the checked `scratchDir` is touched.
 */
export async function removeVmFiles(vmId: string, scratchDir: string, baseDisk: string | undefined) {
  const errors: unknown[] = [];
  const attempt = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (error) {
      errors.push(error);
    }
  };
  // An image removed since (or a grant never made) leaves nothing to revoke.
  if (baseDisk !== undefined && (await exists(baseDisk))) await attempt(() => revokeVmAccess(vmId, baseDisk));
  const files = vmFilesIn(scratchDir);
  for (const path of [files.osDisk, files.guestState, files.runtimeState])
    await attempt(() => deleteVmFile(path));
  await attempt(() => rm(scratchDir, { recursive: true, force: true }));
  if (errors.length > 0) throw errors[0];
}
