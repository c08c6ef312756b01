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
 * So the VM document builder and `view` both take the name from here.
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

/**
 * `Devices.VideoMonitor.ConnectionOptions` for a VM: the pipe above, which only
 * `accessSids` may open (NanaBox and disco-vm both list exactly the SID of the
 * user who runs them, so the relay, running as that user, can connect).
 */
export function videoMonitorConnection(
  systemId: string,
  accessSids: readonly string[],
): { NamedPipe: string; AccessSids: string[] } {
  return { NamedPipe: videoMonitorPipePath(systemId), AccessSids: [...accessSids] };
}
