import { fileSecurityBindings } from '../native/index.js';
import { HcsError } from './errors.js';
import { hcsRuntime } from './runtime.js';

/**
 * Lets the VM `vmId` open the file at `path` (HCS adds an ACE for the VM's own
 * `NT VIRTUAL MACHINE\<id>` SID). A VM opens its disks under that identity, so
 * each VHD must be granted before the create or the hot-add that attaches it:
 * hcsshim does so (`internal/uvm/create_wcow.go`, `internal/uvm/scsi/manager.go`),
 * and hcsctl measured Access denied at create without it.
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsgrantvmaccess
 */
export async function grantVmAccess(vmId: string, path: string): Promise<void> {
  const hr = await hcsRuntime().api.grantVmAccess(vmId, path);
  if (hr < 0) throw new HcsError({ hresult: hr, operation: 'HcsGrantVmAccess', systemId: vmId });
}

/** Takes back what {@link grantVmAccess} gave (the ACE of the VM's SID on `path`). */
export async function revokeVmAccess(vmId: string, path: string): Promise<void> {
  const hr = await hcsRuntime().api.revokeVmAccess(vmId, path);
  if (hr < 0) throw new HcsError({ hresult: hr, operation: 'HcsRevokeVmAccess', systemId: vmId });
}

/**
 * Creates the empty guest state file (`.vmgs`: UEFI variables, vTPM state) a
 * VM's `GuestState.GuestStateFilePath` names; appsandbox makes a fresh one
 * per VM (`src/backend_win/hcs_vm.c`), since a stale one fails the create.
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcscreateemptygueststatefile
 */
export async function createEmptyGuestStateFile(path: string): Promise<void> {
  const hr = await hcsRuntime().api.createEmptyGuestStateFile(path);
  if (hr < 0) throw new HcsError({ hresult: hr, operation: 'HcsCreateEmptyGuestStateFile' });
}

/** Creates the empty runtime state file (`.vmrs`) a VM's `GuestState.RuntimeStateFilePath` names. */
export async function createEmptyRuntimeStateFile(path: string): Promise<void> {
  const hr = await hcsRuntime().api.createEmptyRuntimeStateFile(path);
  if (hr < 0) throw new HcsError({ hresult: hr, operation: 'HcsCreateEmptyRuntimeStateFile' });
}

/**
 * The SID (`S-1-5-21-...`) of the user this process runs as (its token's
 * `TokenUser`, the same for an elevated administrator's token as for the
 * filtered one): whom a VM's video monitor pipe is opened to, as NanaBox
 * lists `GetCurrentProcessUserStringSid()` in its document (schema/video-pipe.ts).
 * Tests replace the bindings with `setFileSecurityBindings`.
 * @throws Win32CallError when the token cannot be read
 */
export function processUserSid(): string {
  return fileSecurityBindings().processUserSid();
}
