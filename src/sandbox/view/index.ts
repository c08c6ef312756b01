import type { ComputeSystem } from '../../hcs/index.js';
import { videoMonitorPipePath } from '../../schema/index.js';
import type { LiveSandbox } from '../drivers/index.js';
import type { SandboxRecord } from '../record.js';
import { SandboxNotRunningError } from '../state-errors.js';
import { SandboxNotVmError } from './errors.js';
import { type LaunchedViewer, launchViewer, type SpawnViewer } from './launch.js';
import { type RdpFile, writeRdpFile } from './rdp-file.js';
import { checkRelayPort, type RelayEndReason, type RelayEvent, startVideoRelay } from './relay.js';

export { SandboxNotVmError, ViewerLaunchError, ViewPortInUseError } from './errors.js';
export type { RelayEndReason as ViewEndReason, RelayEvent as ViewEvent } from './relay.js';

export interface ViewOptions {
  /** The loopback port (on 127.0.0.1) to relay; 0 or unset takes a free one. */
  port?: number | undefined;
  /**
   * Opens the screen in mstsc (default false in the SDK; the CLI launches unless
   * `--no-launch`). The view then ends when that viewer disconnects or exits.
   */
  launch?: boolean | undefined;
  /** Aborting ends the view (reason `aborted`). */
  signal?: AbortSignal | undefined;
  /** Viewers connecting, refused (one at a time), closing. */
  onEvent?: ((event: RelayEvent) => void) | undefined;
  /** The viewer window's title (the .rdp file's name); defaults to the sandbox name or system id. */
  title?: string | undefined;
  /** @internal How the viewer is started (tests). */
  spawnViewer?: SpawnViewer | undefined;
  /** @internal The pipe to relay instead of the VM's own (tests: a Unix socket). */
  pipePath?: string | undefined;
}

/** A VM's screen, relayed to a loopback port until the view ends. */
export interface VmView extends AsyncDisposable {
  /** The port on 127.0.0.1 an RDP client connects to (standard RDP security, no NLA). */
  readonly port: number;
  /** The `.rdp` file for that address (removed when the view ends). */
  readonly rdpFile: string;
  /** The VM's video monitor pipe the port is relayed to. */
  readonly pipe: string;
  /** Whether a viewer is connected now (one at a time). */
  readonly viewerConnected: boolean;
  /** Settles when the view has ended and released everything: closed, aborted, the VM stopped, or the launched viewer went. */
  readonly done: Promise<RelayEndReason>;
  /** Ends the view: stops listening, cuts the viewer off, closes a launched viewer, removes the .rdp file. */
  close(): Promise<RelayEndReason>;
}

/**
 * Relays the screen of a running VM compute system (its video monitor pipe,
 * named by {@link videoMonitorPipePath} in its document) to a loopback port,
 * writes an `.rdp` file for it and, with `launch`, opens it in mstsc. The view
 * ends on `close()`, on `signal`, when the VM stops, or when a launched viewer
 * disconnects or exits.
 */
export async function viewVirtualMachine(
  system: Pick<ComputeSystem, 'id' | 'waitForExit'>,
  options: ViewOptions = {},
): Promise<VmView> {
  const port = checkRelayPort(options.port);
  options.signal?.throwIfAborted();
  const pipe = options.pipePath ?? videoMonitorPipePath(system.id);
  let viewer: LaunchedViewer | undefined;
  const relay = await startVideoRelay({
    pipePath: pipe,
    port,
    signal: options.signal,
    onEvent: (event) => {
      options.onEvent?.(event);
      // A launched viewer is one session: once it disconnects, the window is done with the relay.
      if (viewer && (event.type === 'viewer-closed' || event.type === 'pipe-unavailable')) {
        void relay.close('viewer-exited');
      }
    },
  });
  let rdp: RdpFile | undefined;
  try {
    rdp = await writeRdpFile(relay.port, options.title ?? system.id);
    if (options.launch) viewer = await launchViewer(rdp.path, options.spawnViewer);
  } catch (error) {
    await relay.close();
    await rdp?.remove();
    throw error;
  }
  const launched = viewer;
  const rdpFile = rdp;
  // The VM stopping ends the view; a handle closed first (HandleClosedError) leaves that to close().
  system.waitForExit().then(
    () => relay.close('vm-stopped'),
    () => undefined,
  );
  void launched?.exited.then(() => {
    if (!relay.viewerConnected) void relay.close('viewer-exited');
  });
  const done = relay.done.then(async (reason) => {
    launched?.kill();
    await rdpFile.remove();
    return reason;
  });
  return {
    port: relay.port,
    rdpFile: rdpFile.path,
    pipe,
    get viewerConnected() {
      return relay.viewerConnected;
    },
    done,
    close: async () => {
      await relay.close();
      return done;
    },
    [Symbol.asyncDispose]: async () => {
      await relay.close();
      await done;
    },
  };
}

/** `Sandbox.view`: only a running VM sandbox has a screen to show. */
export async function viewSandbox(
  name: string,
  record: Pick<SandboxRecord, 'isolation' | 'status'>,
  live: LiveSandbox | undefined,
  options: ViewOptions = {},
): Promise<VmView> {
  checkRelayPort(options.port);
  if (record.isolation !== 'vm') throw new SandboxNotVmError(name, record.isolation);
  if (!live || live.ended) throw new SandboxNotRunningError(name, record.status);
  return viewVirtualMachine(live.system, { title: name, ...options });
}
