import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CallOptions, SystemExitStatus } from '../hcs/index.js';
import { InvalidArgumentError } from '../internal/errors.js';
import { sandboxEndpoint } from '../network/index.js';
import type { ConnectOptions, RemoteHost } from '../remote/client/index.js';
import { type ImageRecord, type Progress, withUndo } from '../storage/index.js';
import type { AgentClient } from './agent/index.js';
import type { CommandResult } from './command-errors.js';
import type { OutputEncoding, OutputOf } from './command-output.js';
import {
  type CommandHandle,
  type CommandHost,
  type CommandInput,
  type CommandOptions,
  type RunOptions,
  runCommand,
  spawnCommand,
} from './commands.js';
import { commitSandbox } from './commit.js';
import { driverFor, type IsolationDriver, type LiveSandbox } from './drivers/index.js';
import { SandboxNotFoundError } from './errors.js';
import { newSystemId, openForeignSystem } from './foreign.js';
import { agentLauncher, GuestFiles } from './guest-agent.js';
import { hostFacts } from './host.js';
import { resolveHostFolder, resolveMappedFolders } from './host-folders.js';
import { infoOf, reconcile, type SandboxInfo } from './info.js';
import { applyLimits, type LimitChanges } from './limits-update.js';
import { type ListFilter, listSandboxes, storeAt } from './list.js';
import {
  checkHostPath,
  checkSandboxPath,
  type MappedFolder,
  normaliseOptions,
  type SandboxOptions,
  toStoredOptions,
} from './options.js';
import type { SandboxRecord, SandboxStatus } from './record.js';
import { SandboxFiles, SandboxFilesUnavailableError } from './sandbox-files.js';
import type { SandboxLike } from './sandbox-host.js';
import { createSandboxNetwork, ensureSandboxNetwork, removeSandboxNetwork } from './sandbox-network.js';
import { SandboxNotRunningError, SandboxRunningError } from './state-errors.js';
import type { StateStore, TransitionPatch } from './state-store.js';
import { type SandboxProcess, type SandboxStats, streamStats } from './stats.js';
import { readStoreId, storeIdOf } from './store-id.js';
import { type ViewOptions, type VmView, viewSandbox } from './view/index.js';

export { SYSTEM_ID_PREFIX } from './foreign.js';
export type { SandboxInfo } from './info.js';
export type { ListFilter } from './list.js';

export interface CreateCallOptions extends CallOptions {
  onProgress?: (progress: Progress) => void;
}

function newName(): string {
  return `sb-${randomBytes(4).toString('hex')}`;
}

/**
 * An isolated Windows sandbox made from an image, with commands, files and
 * folders. This class is the public API and the record keeping; how the
 * sandbox is isolated (process container, Hyper-V container, VM) is its
 * driver's business (`drivers/`). `await using` removes an ephemeral sandbox
 * and stops a persistent one.
 */
export class Sandbox implements SandboxLike {
  readonly name: string;
  readonly #store: StateStore;
  readonly #driver: IsolationDriver;
  #record: SandboxRecord;
  #live: LiveSandbox | undefined;
  /** A compute system opened with `force` that has no sandbox record: nothing is stored for it. */
  readonly #transient: boolean;
  readonly files: SandboxFiles;
  readonly commands = {
    /** Runs a command to completion: `{ exitCode, stdout, stderr }`; rejects on a non-zero exit unless `reject: false`. */
    // async, so a sandbox that is not running rejects the promise rather than throwing at the call.
    run: async <E extends OutputEncoding = 'utf8'>(
      command: CommandInput,
      options: RunOptions<E> = {},
    ): Promise<CommandResult<OutputOf<E>>> =>
      runCommand(await this.#commandHost(), command, this.#withDefaults(options)),
    /** Starts a command in the background: a handle with its streams, `wait()` and `kill()`. */
    spawn: async <E extends OutputEncoding = 'utf8'>(
      command: CommandInput,
      options: CommandOptions<E> = {},
    ): Promise<CommandHandle<OutputOf<E>>> =>
      spawnCommand(await this.#commandHost(), command, this.#withDefaults(options)),
  };
  readonly folders = {
    /** Maps a host folder into the running sandbox. */
    map: (hostPath: string, sandboxPath: string, options: { readOnly?: boolean } = {}): Promise<void> =>
      this.#mapFolder({ hostPath, sandboxPath, readOnly: options.readOnly ?? false }),
  };

  private constructor(
    store: StateStore,
    record: SandboxRecord,
    live: LiveSandbox | undefined,
    transient = false,
  ) {
    this.#transient = transient;
    this.name = record.name;
    this.#store = store;
    this.#driver = driverFor(record.isolation);
    this.#record = record;
    this.#live = live;
    this.files = new SandboxFiles(
      record.name,
      () => this.#record.volumePath,
      this.#driver.usesGuestAgent && (async () => new GuestFiles(await this.#guestAgent())),
    );
  }

  /** The compute system id. */
  get id(): string {
    return this.#record.id;
  }

  /**
   * Creates a sandbox and (unless `start: false`) starts it. Every option is
   * checked before anything is created; on any failure whatever was created is
   * removed again.
   */
  static async create(options: SandboxOptions, call: CreateCallOptions = {}): Promise<Sandbox> {
    const host = hostFacts();
    const checked = normaliseOptions(options, host);
    const driver = driverFor(checked.isolation);
    driver.checkOptions(checked);
    // Folders by their final path; a missing one fails here, before anything exists.
    const o = { ...checked, mappedFolders: await resolveMappedFolders(checked.mappedFolders) };
    const store = storeAt(o.home);
    const image = await driver.resolveImage(o.image, o.home);
    driver.checkImage(image, host);

    const name = o.name ?? newName();
    // The store id in the system id: gc of another store leaves this system alone (store-id.ts).
    const id = newSystemId(await storeIdOf(store.root), name, randomBytes(3).toString('hex'));
    const scratchDir = join(store.root, 'scratch', name);
    // Each step pushes its undo; a failure anywhere removes what was made, newest first.
    return withUndo(async (undo) => {
      // The creator and the writable layer's folder are recorded up front, so
      // `gc` can tell a create in progress from one a crash left behind.
      await store.createRecord({
        name,
        id,
        isolation: o.isolation,
        image: image.reference,
        ...(image.layers.length > 0 && { layers: image.layers }),
        status: 'creating',
        persistent: o.persistent,
        ownerPid: process.pid,
        scratchDir,
        options: toStoredOptions(o),
      });
      undo.push('state record', () => store.removeRecord(name));
      const disks = await driver.prepare({ name, id, scratchDir, image, options: o }, undo, call);
      const network = await createSandboxNetwork(id, name, o, undo);
      const record = await store.transition(name, 'created', {
        ...disks,
        options: network,
        ...(o.persistent && { ownerPid: undefined }),
      });
      const sandbox = new Sandbox(store, record, undefined);
      // start() cleans up its own compute systems when it fails.
      if (o.start) await sandbox.start(call);
      return sandbox;
    });
  }

  /**
   * Opens a sandbox by name (or compute system id), from any process. A
   * compute system that no sandbox record knows can be opened by id only if it
   * is ours (our Owner and id prefix), or with `force: true` (then only
   * stop/kill/remove make sense, and remove only terminates it).
   */
  static async open(nameOrId: string, options: { home?: string; force?: boolean } = {}): Promise<Sandbox> {
    const store = storeAt(options.home);
    const record =
      // Only "this is no sandbox name" (an id) is a reason to look further: a record that
      // exists but cannot be read is reported as corrupt, with its path, not as missing.
      (await store.findRecord(nameOrId).catch((error: unknown) => {
        if (error instanceof InvalidArgumentError) return undefined;
        throw error;
      })) ?? (await store.listRecords({ skipCorrupt: true })).find((r) => r.id === nameOrId);
    if (record) return new Sandbox(store, record, await driverFor(record.isolation).attach(record));
    const foreign = await openForeignSystem(nameOrId, options.force === true, await readStoreId(store.root));
    return new Sandbox(store, foreign.record, foreign.live, true);
  }

  /**
   * Every sandbox in the store, with its status reconciled against HCS (the
   * truth for what runs): a record whose compute system is gone is `stopped`.
   */
  static async list(filter: ListFilter = {}): Promise<SandboxInfo[]> {
    return listSandboxes(filter);
  }

  /** A remote `hcs-sandbox serve` with this class's `create`/`open`/`list` (docs/remote.md); loads no native code. */
  static async connect(options: ConnectOptions): Promise<RemoteHost> {
    return (await import('../remote/client/index.js')).connectRemote(options);
  }

  /** Name, id, status (from HCS), isolation, image, options, writable layer size. */
  async info(): Promise<SandboxInfo> {
    let state: string | undefined;
    const system = this.#live?.system;
    if (system && !system.closed) {
      state = (await system.properties().catch(() => ({ State: undefined }))).State as string | undefined;
    }
    this.#record = { ...this.#record, status: reconcile(this.#record, state) };
    return infoOf(this.#record);
  }

  /** Starts a created or stopped sandbox (re-mounting a persistent one's writable layer). */
  async start(call: CallOptions = {}): Promise<void> {
    await this.#store.withLock(this.name, async () => {
      const record = await this.#store.getRecord(this.name);
      const live = this.#live;
      if (live && !live.ended) {
        const state = (await live.system.properties()).State;
        if (state === 'Running') return;
        if (state === 'Paused') return this.resume(call);
      }
      // The disks start mounts and boots come from <home>/scratch/<name> only, never from
      // wherever a (possibly planted) record points: checked before anything is attached.
      const scratchDir = this.#store.scratchDirOf(record);
      // A host restart takes the endpoint and namespace (sandbox-network.ts): made again here.
      const namespaceId = await ensureSandboxNetwork(record);
      const options = { ...record.options, ...(namespaceId !== undefined && { namespaceId }) };
      const started = await this.#driver.start(
        { ...record, options, ...(scratchDir !== undefined && { scratchDir }) },
        call,
      );
      this.#live = started.live;
      this.#record = await this.#store.transition(this.name, 'running', {
        ...(namespaceId !== undefined && { options: { namespaceId } }),
        ...(started.volumePath !== undefined && { volumePath: started.volumePath }),
        ...(started.uvmId !== undefined && { uvmId: started.uvmId }),
        ...(record.persistent ? {} : { ownerPid: process.pid }),
      });
    });
  }

  /**
   * Stops the sandbox: a graceful shutdown, then a forced one after `timeoutMs`
   * (default 10 s for a container, 60 s for a VM's guest shutdown). A persistent sandbox keeps its files for the next start.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<SystemExitStatus | undefined> {
    const live = this.#live;
    if (!live || live.system.closed) return undefined;
    const status = await live.stop(options.timeoutMs ?? this.#driver.stopTimeoutMs);
    this.#live = undefined;
    this.#record = await this.#save('stopped');
    return status;
  }

  /** Stops the sandbox at once (terminate). */
  async kill(): Promise<void> {
    await this.#terminate();
    this.#record = await this.#save('stopped');
  }

  async pause(call: CallOptions = {}): Promise<void> {
    await this.#running().system.pause(call);
    this.#record = await this.#save('paused');
  }

  async resume(call: CallOptions = {}): Promise<void> {
    await this.#running().system.resume(call);
    this.#record = await this.#save('running');
  }

  /** Stops the sandbox if needed and deletes it: its compute system, disks, network and record. */
  async remove(): Promise<void> {
    if (this.#transient) return this.#terminate();
    await this.#store.withLock(this.name, async () => {
      const scratchDir = this.#store.scratchDirOf(this.#record); // refuse a planted record before anything
      await this.#store.transition(this.name, 'removing');
      await this.#terminate();
      await removeSandboxNetwork(this.#record);
      await this.#driver.teardown(this.#record, scratchDir);
      await this.#store.removeRecord(this.name);
    });
  }

  /** Ephemeral sandboxes are removed; persistent ones are stopped (their files kept). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#record.persistent) await this.stop();
    else
      await this.remove().catch((error) => {
        if (!(error instanceof SandboxNotFoundError)) throw error;
      });
  }

  /**
   * Live resource use, one reading per `intervalMs` (default 1 s) until the
   * loop breaks or `signal` aborts; CPU percent compares consecutive readings.
   */
  stats(options: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<SandboxStats> {
    return streamStats(this.name, () => this.#running().system, options);
  }

  /** The processes inside the sandbox (`ProcessList`). */
  async top(): Promise<SandboxProcess[]> {
    const props = await this.#running().system.properties<{ ProcessList?: SandboxProcess[] }>({
      PropertyTypes: ['ProcessList'],
    });
    return props.ProcessList ?? [];
  }

  /**
   * Changes limits of a running sandbox where HCS allows it (memory, CPU count
   * or cap); a build that cannot is reported with a clear error and nothing changes.
   */
  async update(limits: LimitChanges): Promise<void> {
    const options = await applyLimits(this.#record, this.#driver, () => this.#running().system, limits);
    this.#record = await this.#save(this.#record.status, { options });
  }

  /**
   * Turns this sandbox's changes into a new image (`reference`) on top of the
   * image it was made from, so a prepared sandbox becomes the base of others.
   * The sandbox must be stopped (its files must not change meanwhile).
   */
  async commit(reference: string, options: { home?: string } = {}): Promise<ImageRecord> {
    if (this.#live && !this.#live.ended) throw new SandboxRunningError(this.name);
    return commitSandbox(this.#record, this.#driver, reference, options.home ?? this.#store.root);
  }

  /** The sandbox's IP address on its network (as `wsb ip` prints), or undefined with network `none`. */
  async ip(): Promise<string | undefined> {
    return (await sandboxEndpoint(this.#record.id))?.ipAddress;
  }

  /** Relays a running VM sandbox's screen to a loopback RDP port (and opens mstsc with `launch`): view/index.ts. */
  view(options: ViewOptions = {}): Promise<VmView> {
    return viewSandbox(this.name, this.#record, this.#live, options);
  }

  /** Releases this object's handles without stopping anything (another process can open the sandbox). */
  async close(): Promise<void> {
    await this.#live?.close();
  }

  // -------------------------------------------------------------------------

  async #save(status: SandboxStatus, patch: TransitionPatch = {}): Promise<SandboxRecord> {
    if (this.#transient) return { ...this.#record, status };
    return this.#store.transition(this.name, status, patch);
  }

  #running(): LiveSandbox {
    const live = this.#live;
    if (!live || live.ended) throw new SandboxNotRunningError(this.name, this.#record.status);
    return live;
  }

  /** Where commands run: the driver says first whether this sandbox can run any. */
  async #commandHost(): Promise<CommandHost> {
    this.#driver.checkCommands(this.#record);
    const live = this.#running();
    return live.guestAgent ? agentLauncher(await live.guestAgent()) : live.system;
  }

  /** The running sandbox's guest agent (drivers with `usesGuestAgent`). */
  #guestAgent(): Promise<AgentClient> {
    this.#driver.checkCommands(this.#record);
    const live = this.#running();
    if (!live.guestAgent) throw new SandboxFilesUnavailableError(this.name, 'it has no guest agent');
    return live.guestAgent();
  }

  #withDefaults<T extends Pick<CommandOptions, 'env' | 'cwd'>>(options: T): T {
    const { env, workingDir } = this.#record.options;
    return {
      ...options,
      ...((env || options.env) && { env: { ...env, ...options.env } }),
      ...(options.cwd === undefined && workingDir !== undefined && { cwd: workingDir }),
    };
  }

  async #mapFolder(folder: Required<MappedFolder>): Promise<void> {
    const hostPath = await resolveHostFolder('hostPath', checkHostPath('hostPath', folder.hostPath));
    const sandboxPath = checkSandboxPath('sandboxPath', folder.sandboxPath);
    const mapped = { hostPath, sandboxPath, readOnly: folder.readOnly };
    await this.#driver.mapFolder(this.#running(), mapped, {});
    this.#record = await this.#store.updateRecord(this.name, (current) => ({
      options: { ...current.options, mappedFolders: [...(current.options.mappedFolders ?? []), mapped] },
    }));
  }

  async #terminate(): Promise<void> {
    const live = this.#live;
    this.#live = undefined;
    await this.#driver.terminate(this.#record, live);
  }
}
