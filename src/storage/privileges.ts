import { Privilege, type SecurityApi, securityBindings, type TokenStatus } from '../native/index.js';
import { ElevationRequiredError } from './errors.js';

/**
 * What HCS storage needs from this process's token, checked before the first
 * storage call (measured: hcsctl docs/findings.md, "Elevation"):
 * - every storage call: an elevated token with BUILTIN\Administrators enabled
 *   (a filtered token gets access denied from HcsFormatWritableLayerVhd and an
 *   empty mount path from HcsGetLayerVhdMountPath);
 * - layer import, export and destroy: SeBackupPrivilege and SeRestorePrivilege
 *   *enabled*. computestorage does not enable them itself (hcsctl findings:
 *   "raw computestorage syscalls do not enable privileges"); hcsshim's wclayer
 *   enables them first (cmd/wclayer: winio.EnableProcessPrivileges).
 *
 * They are enabled on the process token, once per process: the storage calls
 * run on koffi's worker threads, which a thread (impersonation) token on the
 * main thread would not cover.
 */
const BACKUP_RESTORE = [Privilege.Backup, Privilege.Restore] as const;

/** The token's answer and the enable step, remembered per bindings object (a new fake starts fresh). */
const tokens = new WeakMap<SecurityApi, TokenStatus>();
const enabled = new WeakSet<SecurityApi>();

/** The process token's elevation, Administrators group and the privileges storage needs. */
export function processTokenStatus(): TokenStatus {
  const api = securityBindings();
  let status = tokens.get(api);
  if (!status) {
    status = api.processToken([...BACKUP_RESTORE, Privilege.ManageVolume]);
    tokens.set(api, status);
  }
  return status;
}

/** Throws {@link ElevationRequiredError} unless this process runs elevated as an administrator. */
export function requireElevation(operation: string): void {
  const status = processTokenStatus();
  const missing: string[] = [];
  if (!status.elevated) missing.push('an elevated token');
  if (!status.administrators) missing.push('an enabled BUILTIN\\Administrators SID');
  if (missing.length > 0) throw new ElevationRequiredError(operation, missing);
}

/**
 * Checks elevation and enables SeBackupPrivilege and SeRestorePrivilege on the
 * process token, the first time only; what import, export and destroy need.
 */
export function enableBackupRestore(operation: string): void {
  const api = securityBindings();
  if (enabled.has(api)) return;
  requireElevation(operation);
  const notHeld = api.enableProcessPrivileges(BACKUP_RESTORE);
  if (notHeld.length > 0) throw new ElevationRequiredError(operation, notHeld);
  enabled.add(api);
}
