/**
 * Where a VM's screen is served. The VM worker serves the emulated video card
 * (`Devices.VideoMonitor`) as an RDP server (the "basic session") on a named
 * pipe, and the pipe's name is **whatever the create document says** in
 * `VideoMonitor.ConnectionOptions.NamedPipe` (schema `RdpConnectionOptions`:
 * `NamedPipe`, `AccessSids`; shared/reference/hcs-schema, every version from
 * 1809 to 21H2). No peer relies on a default name:
 * - NanaBox puts `\\.\pipe\<Name>.BasicSession` (and `.EnhancedSession` for
 *   `EnhancedModeVideo`) in the document, with the current user's SID in
 *   `AccessSids` (M2Team/NanaBox@9b4f9e0 NanaBox/ConfigurationManager.cpp,
 *   `MakeHcsConfiguration`), and its viewer opens the same name
 *   (NanaBox/MainWindow.cpp `RdpClientConnect`); `<Name>` is the HCS system id;
 * - disco-vm puts `\\.\pipe\disco-vm-console-<id>` and the current user's SID
 *   there, "derived from its ID so the document that creates it and the viewer
 *   that opens it agree" (discobox-ai/vm pkg/machine/hcs/console_windows.go
 *   `consolePipe`, config_windows.go `videoMonitor`);
 * - hcsshim creates an empty `VideoMonitor{}` (internal/uvm/create_wcow.go) and
 *   never opens its pipe: what a VM without `ConnectionOptions` serves on is
 *   UNCONFIRMED (docs/windows-verification.md).
 *
 * So the VM driver's document (`buildDiskBootVm` `videoConnection`) and `view`
 * both take the name from here.
 */

/** The suffix NanaBox gives the basic session's pipe (the one mstsc can use through a relay). */
export const BASIC_SESSION_PIPE_SUFFIX = '.BasicSession';

/**
 * The named pipe a VM's video monitor is served on, for the VM whose compute
 * system id is `systemId`: `\\.\pipe\<systemId>.BasicSession`. The VM document
 * must carry it as `Devices.VideoMonitor.ConnectionOptions.NamedPipe` (see
 * {@link videoMonitorConnection}); the VM worker does not pick it by itself.
 */
export function videoMonitorPipePath(systemId: string): string {
  return `\\\\.\\pipe\\${systemId}${BASIC_SESSION_PIPE_SUFFIX}`;
}

/** BUILTIN\Administrators, as a SID string. */
export const BUILTIN_ADMINISTRATORS_SID = 'S-1-5-32-544';

/**
 * Who may open a VM's video monitor pipe (`ConnectionOptions.AccessSids`):
 * the user who creates the VM, as NanaBox and disco-vm list (NanaBox runs
 * elevated and lists its token's user, `GetCurrentProcessUserStringSid` in
 * NanaBox/Utils.cpp: an elevated token keeps the user's own SID), and
 * BUILTIN\Administrators. NanaBox and disco-vm need no more because their
 * viewer is the process that made the VM. Here `view` is any later process:
 * another elevated administrator's `view` of a sandbox this one made reads
 * the same record, since the store root admits SYSTEM, Administrators and its
 * owner (storage/store-root-security.ts `STORE_ROOT_SDDL`, moby's
 * `SddlAdministratorsLocalSystem`), and opening the VM through HCS (to
 * terminate or modify it) already takes administrative rights; the hvsocket services of
 * the same VM admit SYSTEM and Administrators (hcsshim's default, vm-common.ts
 * `SDDL_SYSTEM_AND_ADMINS`). So the pipe admits no one who could not already
 * stop the VM or read its disk. A filtered (non-elevated) administrator token
 * holds Administrators deny-only and gets in through the user SID alone (if
 * it is the creator's).
 * Whether vmwp honours a group SID here as it does a user SID: UNCONFIRMED
 * (docs/windows-verification.md VV6).
 */
export function videoMonitorAccessSids(userSid: string): string[] {
  return [...new Set([userSid, BUILTIN_ADMINISTRATORS_SID])];
}

/**
 * `Devices.VideoMonitor.ConnectionOptions` for a VM, in the document's own
 * field names: the pipe above, which only `accessSids` may open (for a
 * document written by hand; `buildDiskBootVm` takes the same as
 * `videoConnection`).
 */
export function videoMonitorConnection(
  systemId: string,
  accessSids: readonly string[],
): { NamedPipe: string; AccessSids: string[] } {
  return { NamedPipe: videoMonitorPipePath(systemId), AccessSids: [...accessSids] };
}
