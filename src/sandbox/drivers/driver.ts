import type { CallOptions, ComputeSystem, SystemExitStatus } from '../../hcs/index.js';
import type { ModifySettingRequestDocument } from '../../schema/index.js';
import type { LayerRef, Progress, UndoStack } from '../../storage/index.js';
import type { AgentClient } from '../agent/index.js';
import type { HostFacts } from '../host.js';
import type { NormalisedOptions } from '../options.js';
import type { SandboxIsolation, SandboxRecord, StoredMappedFolder } from '../record.js';

/**
 * The seam between the product API (`Sandbox`: options, records, commands,
 * files) and one way of isolating a sandbox. Each isolation (process
 * container, Hyper-V container, VM) is one module implementing this; `Sandbox`
 * never asks which isolation it holds, it asks its driver. Modelled on
 * hcsshim's split between `hcsoci` (what a container needs) and `uvm` (how a
 * utility VM hosts it).
 */
export interface IsolationDriver {
  readonly isolation: SandboxIsolation;

  /** How long `stop` waits for a graceful shutdown before it terminates, when the caller does not say. */
  readonly stopTimeoutMs: number;

  /**
   * Files and commands go through a guest agent (`LiveSandbox.guestAgent`)
   * rather than HCS processes and a host-mounted writable layer.
   */
  readonly usesGuestAgent?: true;

  /** Refuses options this isolation cannot honour, before anything is resolved or created. */
  checkOptions(options: NormalisedOptions): void;

  /**
   * Finds the image `reference` names where this isolation keeps its images
   * (container images in the image sources, VM images in the VM image store
   * under `home`); `undefined` when the options named none.
   */
  resolveImage(reference: string | undefined, home: string | undefined): Promise<ResolvedImage>;

  /** Refuses an image this isolation cannot run on this host, before anything is created. */
  checkImage(image: ResolvedImage, host: HostFacts): void;

  /**
   * Refuses commands (run, spawn) when this isolation has no way to run them,
   * with a typed error saying why: checked before the sandbox's state, so the
   * answer is the same whether it runs or not.
   */
  checkCommands(record: SandboxRecord): void;

  /**
   * Creates the sandbox's disks in `plan.scratchDir`, pushing one undo step per
   * thing created, so a failure later in create removes them again.
   */
  prepare(plan: PreparePlan, undo: UndoStack, call: PrepareCallOptions): Promise<PreparedDisks>;

  /** Creates and starts the compute system(s) of a created or stopped sandbox. */
  start(record: SandboxRecord, call: CallOptions): Promise<StartedSandbox>;

  /** Opens the compute system(s) of a sandbox that runs (started by any process), if there are any. */
  attach(record: SandboxRecord): Promise<LiveSandbox | undefined>;

  /** Makes sure no compute system of the sandbox runs, whether or not this process holds it. */
  terminate(record: SandboxRecord, live: LiveSandbox | undefined): Promise<void>;

  /**
   * Removes what `prepare` created (after `terminate`). `scratchDir` is the
   * record's writable layer as the state store checked it (never the
   * record's own field, which a planted record could point anywhere).
   */
  teardown(record: SandboxRecord, scratchDir: string | undefined): Promise<void>;

  /** The modify requests that change a running sandbox's limits. */
  limitRequests(limits: Limits, host: HostFacts): ModifySettingRequestDocument[];

  /** Maps a host folder into the running sandbox. */
  mapFolder(live: LiveSandbox, folder: StoredMappedFolder, call: CallOptions): Promise<void>;

  /**
   * The writable layer `commit` exports, or why this sandbox has none that the
   * host can export.
   */
  writableLayer(record: SandboxRecord): { volumePath: string; layers: LayerRef[] } | { unavailable: string };
}

export interface PrepareCallOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: Progress) => void) | undefined;
}

/** An image as its driver resolved it: what `prepare` builds on and the record keeps. */
export interface ResolvedImage {
  /** What the record keeps as `image` (a container image reference, or a VM image name). */
  reference: string;
  /** Read-only layers of a container image, top first; none for a VM image. */
  layers: LayerRef[];
  /** Windows build of the image, when known. */
  build?: number;
  /** A VM image's base disk, which the sandbox's own disk differences over. */
  baseDisk?: string;
}

export interface PreparePlan {
  name: string;
  /** The compute system id. */
  id: string;
  scratchDir: string;
  image: ResolvedImage;
  options: NormalisedOptions;
}

/** What `prepare` leaves for the record. */
export interface PreparedDisks {
  /** The writable layer's volume, while it stays mounted on the host. */
  volumePath?: string;
  /** The utility VM's compute system id, when the sandbox has one. */
  uvmId?: string;
}

export interface StartedSandbox {
  live: LiveSandbox;
  /** What the record must learn from this start (a re-mounted volume). */
  volumePath?: string;
  uvmId?: string;
}

/** Limits that `update` changes on a running sandbox; at most one of cpus and cpuLimit. */
export interface Limits {
  memoryMB?: number;
  cpus?: number;
  cpuLimit?: number;
}

/**
 * The running compute system(s) of one sandbox, as this process holds them.
 * `system` is where commands run and whose properties describe the sandbox;
 * a driver may hold more (the utility VM of a Hyper-V container).
 */
export interface LiveSandbox {
  readonly system: ComputeSystem;
  /** True once the system has exited or its handle was closed. */
  readonly ended: boolean;
  /** The connection to the guest's agent (drivers with `usesGuestAgent`), made on first use. */
  guestAgent?(): Promise<AgentClient>;
  /** A graceful stop, then a forced one after `timeoutMs`; releases the handles. */
  stop(timeoutMs: number): Promise<SystemExitStatus | undefined>;
  /** A forced stop; releases the handles. Never throws for a system already gone. */
  terminate(): Promise<void>;
  /** Releases the handles without stopping anything. */
  close(): Promise<void>;
}
