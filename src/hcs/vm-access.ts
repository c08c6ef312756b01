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
