import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CallOptions,
  ComputeSystem,
  enumerateComputeSystems,
  HcsError,
  type SystemExitStatus,
} from '../hcs/index.js';
import { InvalidArgumentError } from '../internal/errors.js';
import {
  createEndpoint,
  createSandboxNamespace,
  deleteEndpoint,
  deleteSandboxNamespace,
  formatPortMapping,
  sandboxEndpoint,
  stableMacAddress,
} from '../network/index.js';
import {
  addMappedDirectoryRequest,
  buildHypervContainer,
  buildProcessContainer,
  setContainerProcessorRequest,
  setMemoryRequest,
} from '../schema/index.js';
import {
  checkCompatibility,
  createScratchLayer,
  defaultSources,
  destroyLayer,
  destroyScratchLayer,
  exportLayer,
  type ImageRecord,
  importLayer,
  layerRef,
  mountScratchLayer,
  OwnImageSource,
  type Progress,
  RollbackError,
  resolveImage,
  SCRATCH_VHDX,
  scratchSize,
  UndoStack,
  unmountScratchLayer,
} from '../storage/index.js';
import type { CommandResult } from './command-errors.js';
import {
  type CommandHandle,
  type CommandInput,
  type CommandOptions,
  type RunOptions,
  runCommand,
  spawnCommand,
} from './commands.js';
import { LimitUpdateUnsupportedError, NotOwnedError, SandboxNotFoundError } from './errors.js';
import { hostFacts } from './host.js';
import {
  checkHostPath,
  checkSandboxPath,
  type MappedFolder,
  normaliseOptions,
  type SandboxOptions,
} from './options.js';
import { SandboxFiles } from './sandbox-files.js';
import { type SandboxRecord, type SandboxStatus, StateStore } from './state-store.js';
import { type HcsStatistics, type SandboxProcess, type SandboxStats, toSandboxStats } from './stats.js';

/** Every compute system hcs-sandbox creates has an id with this prefix (and our Owner). */
export const SYSTEM_ID_PREFIX = 'hcssb-';

export interface SandboxInfo {
  name: string;
  /** The compute system id. */
  id: string;
  status: SandboxStatus;
  isolation: SandboxRecord['isolation'];
  image: string | undefined;
  persistent: boolean;
  createdAt: string;
  memoryMB: number | undefined;
  cpus: number | undefined;
  mappedFolders: MappedFolder[];
  /** Bytes the writable layer takes on disk. */
  scratchBytes: number | undefined;
  /** `nat`, `isolated`, `internal` or `none`. */
  network: string;
  /** Published ports, `host:sandbox/protocol`. */
  ports: string[];
  /** Address on its network, when it has one (as `hcs-sandbox ip` prints it). */
  ip: string | undefined;
}

export interface CreateCallOptions extends CallOptions {
  onProgress?: (progress: Progress) => void;
}

export interface ListFilter {
  status?: SandboxStatus;
  home?: string;
}

function newName(): string {
  return `sb-${randomBytes(4).toString('hex')}`;
}

function storeOf(home: string | undefined): StateStore {
  return new StateStore(home === undefined ? {} : { root: home });
}

/**
 * An isolated Windows sandbox: a container (process or Hyper-V isolation) made
 * from an image, with commands, files and folders. `await using` removes an
 * ephemeral sandbox and stops a persistent one.
 */
export class Sandbox implements AsyncDisposable {
  readonly name: string;
  readonly #store: StateStore;
  #record: SandboxRecord;
  #system: ComputeSystem | undefined;
  /** The utility VM hosting a Hyper-V-isolated sandbox. */
  #uvm: ComputeSystem | undefined;
  /** A compute system opened with `force` that has no sandbox record: nothing is stored for it. */
  readonly #transient: boolean;
  readonly files: SandboxFiles;
  readonly commands = {
    /** Runs a command to completion: `{ exitCode, stdout, stderr }`; rejects on a non-zero exit unless `reject: false`. */
    run: (command: CommandInput, options: RunOptions = {}): Promise<CommandResult> =>
      runCommand(this.#running(), command, this.#withDefaults(options)),
    /** Starts a command in the background: a handle with its streams, `wait()` and `kill()`. */
    spawn: (command: CommandInput, options: CommandOptions = {}): Promise<CommandHandle> =>
      spawnCommand(this.#running(), command, this.#withDefaults(options)),
  };
  readonly folders = {
    /** Maps a host folder into the running sandbox. */
    map: (hostPath: string, sandboxPath: string, options: { readOnly?: boolean } = {}): Promise<void> =>
      this.#mapFolder({ hostPath, sandboxPath, readOnly: options.readOnly ?? false }),
  };

  private constructor(
    store: StateStore,
    record: SandboxRecord,
    system: ComputeSystem | undefined,
    transient = false,
  ) {
    this.#transient = transient;
    this.name = record.name;
    this.#store = store;
    this.#record = record;
    this.#system = system;
    this.files = new SandboxFiles(record.name, () => this.#record.volumePath);
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
    const o = normaliseOptions(options, host);
    if (o.isolation === 'vm') {
      throw new InvalidArgumentError(
        'isolation',
        "'process' or 'hyperv' (Windows Sandbox-style 'vm' isolation is not available yet)",
        o.isolation,
      );
    }
    const store = storeOf(o.home);
    const sources = defaultSources(o.home === undefined ? {} : { own: { root: o.home } });
    const image = await resolveImage(o.image as string, { sources });
    checkImage(image, o.isolation, host.build);
    if (o.isolation === 'hyperv') checkUtilityVm(image);

    const name = o.name ?? newName();
    const id = `${SYSTEM_ID_PREFIX}${name}-${randomBytes(3).toString('hex')}`;
    const undo = new UndoStack();
    try {
      await store.createRecord({
        name,
        id,
        isolation: o.isolation,
        image: image.reference,
        layers: image.layers,
        status: 'creating',
        persistent: o.persistent,
        ...(o.persistent ? {} : { ownerPid: process.pid }),
        options: {
          memoryMB: o.memoryMB,
          cpus: o.cpus,
          cpuLimit: o.cpuLimit,
          cpuWeight: o.cpuWeight,
          ioMaxIops: o.ioMaxIops,
          ioMaxBandwidth: o.ioMaxBandwidth,
          mappedFolders: o.mappedFolders,
          env: o.env,
          workingDir: o.workingDir,
          hostName: o.hostName,
          scratchSizeGB: o.scratchSizeGB,
          owner: o.owner,
        },
      });
      undo.push('state record', () => store.removeRecord(name));

      const scratchDir = join(store.root, 'scratch', name);
      const scratch = await createScratchLayer(
        { dir: scratchDir, sizeGB: o.scratchSizeGB, parents: image.layers },
        {
          ...(call.signal && { signal: call.signal }),
          ...(call.onProgress && { onProgress: call.onProgress }),
        },
      );
      undo.push('writable layer', () => destroyScratchLayer(scratchDir));
      let volumePath: string | undefined = scratch.volumePath;
      if (o.isolation === 'hyperv') {
        // The utility VM attaches the container's scratch disk itself (SCSI), so it
        // must not stay attached on the host; the UVM boots from a copy of the
        // image's own scratch template.
        await unmountScratchLayer(scratch);
        await copyFile(utilityVmPaths(image).template, join(scratchDir, UVM_SCRATCH));
        volumePath = undefined;
      }

      let namespaceId: string | undefined;
      if (o.network !== 'none') {
        await createEndpoint({
          sandboxId: id,
          mode: o.network,
          ...(o.networkName !== undefined && { network: o.networkName }),
          ports: o.ports,
          allow: o.allow,
          ...(o.dns !== undefined && { dns: o.dns }),
          persistent: o.persistent,
          ...(o.persistent && { macAddress: stableMacAddress(name) }),
        });
        undo.push('network endpoint', async () => {
          await deleteEndpoint(id);
        });
        namespaceId = await createSandboxNamespace(id);
        undo.push('network namespace', () => deleteSandboxNamespace(id));
      }

      const sandbox = new Sandbox(
        store,
        await store.updateRecord(name, {
          options: {
            ...(await store.getRecord(name)).options,
            network: o.network,
            ...(namespaceId !== undefined && { namespaceId }),
            ...(o.ports.length > 0 && { ports: o.ports.map(formatPortMapping) }),
          },
          scratchDir,
          ...(volumePath !== undefined && { volumePath }),
          ...(o.isolation === 'hyperv' && { uvmId: `${id}-uvm` }),
          status: 'created',
        }),
        undefined,
      );
      if (o.start) {
        await sandbox.start(call);
        undo.push('compute system', () => sandbox.#terminateAndClose());
      }
      undo.commit();
      return sandbox;
    } catch (error) {
      const failures = await undo.rollback();
      if (failures.length > 0) throw new RollbackError(error, failures);
      throw error;
    }
  }

  /**
   * Opens a sandbox by name (or compute system id), from any process. A
   * compute system that no sandbox record knows can be opened by id only if it
   * is ours (our Owner and id prefix), or with `force: true` (then only
   * stop/kill/remove make sense, and remove only terminates it).
   */
  static async open(nameOrId: string, options: { home?: string; force?: boolean } = {}): Promise<Sandbox> {
    const store = storeOf(options.home);
    const record =
      (await store.findRecord(nameOrId).catch(() => undefined)) ??
      (await store.listRecords({ skipCorrupt: true })).find((r) => r.id === nameOrId);
    if (record) {
      let system: ComputeSystem | undefined;
      try {
        system = await ComputeSystem.open(record.id);
      } catch (error) {
        if (!(error instanceof HcsError && error.isNotFound())) throw error;
      }
      return new Sandbox(store, record, system);
    }
    let system: ComputeSystem;
    try {
      system = await ComputeSystem.open(nameOrId);
    } catch (error) {
      if (error instanceof HcsError && error.isNotFound()) throw new SandboxNotFoundError(nameOrId);
      throw error;
    }
    const props = await system.properties<{ Owner?: string; State?: string; SystemType?: string }>();
    const ours = props.Owner === 'hcs-sandbox' && nameOrId.startsWith(SYSTEM_ID_PREFIX);
    if (!ours && !options.force) {
      await system.close();
      throw new NotOwnedError(nameOrId, props.Owner);
    }
    const now = new Date().toISOString();
    return new Sandbox(
      store,
      {
        name: nameOrId,
        id: nameOrId,
        createdAt: now,
        updatedAt: now,
        options: { owner: props.Owner },
        isolation: 'process',
        status: reconcile({ status: 'created' } as SandboxRecord, props.State),
        persistent: true,
      },
      system,
      true,
    );
  }

  /**
   * Every sandbox in the store, with its status reconciled against HCS (the
   * truth for what runs): a record whose compute system is gone is `stopped`.
   */
  static async list(filter: ListFilter = {}): Promise<SandboxInfo[]> {
    const store = storeOf(filter.home);
    const records = await store.listRecords({ skipCorrupt: true });
    const live = new Map(
      (await enumerateComputeSystems({ Owners: ownersOf(records) })).map((s) => [s.Id, s.State]),
    );
    const infos: SandboxInfo[] = [];
    for (const record of records) {
      const status = reconcile(record, live.get(record.id));
      if (status !== record.status && record.status !== 'creating' && record.status !== 'removing') {
        await store.updateRecord(record.name, { status }).catch(() => undefined);
      }
      if (filter.status && status !== filter.status) continue;
      infos.push(await infoOf({ ...record, status }));
    }
    return infos;
  }

  /** Name, id, status (from HCS), isolation, image, options, writable layer size. */
  async info(): Promise<SandboxInfo> {
    let state: string | undefined;
    if (this.#system && !this.#system.closed) {
      state = (await this.#system.properties().catch(() => ({ State: undefined }))).State as
        | string
        | undefined;
    }
    this.#record = { ...this.#record, status: reconcile(this.#record, state) };
    return infoOf(this.#record);
  }

  /** Starts a created or stopped sandbox (re-mounting a persistent one's writable layer). */
  async start(call: CallOptions = {}): Promise<void> {
    await this.#store.withLock(this.name, async () => {
      const record = await this.#store.getRecord(this.name);
      if (this.#system && !this.#system.closed && !this.#system.exitStatus) {
        const state = (await this.#system.properties()).State;
        if (state === 'Running') return;
        if (state === 'Paused') return this.resume(call);
      }
      if (!record.scratchDir || !record.layers) throw new SandboxNotFoundError(this.name);
      if (record.isolation === 'hyperv') return this.#startHyperv(record, call);
      let volumePath = record.volumePath;
      // After a host restart the writable layer is no longer attached: mount it again.
      if (!volumePath || !existsSync(volumePath)) {
        volumePath = (await mountScratchLayer(record.scratchDir, record.layers)).volumePath;
      }
      const { ioMaxIops, ioMaxBandwidth } = storedOptions(record);
      const document = buildProcessContainer({
        layers: record.layers,
        scratchPath: volumePath,
        ...containerSettings(record),
        ...((ioMaxIops !== undefined || ioMaxBandwidth !== undefined) && {
          storageQoS: {
            ...(ioMaxIops !== undefined && { iopsMaximum: ioMaxIops }),
            ...(ioMaxBandwidth !== undefined && { bandwidthMaximum: ioMaxBandwidth }),
          },
        }),
      });
      const system = await ComputeSystem.create(record.id, document, call);
      try {
        await system.start(call);
      } catch (error) {
        await system[Symbol.asyncDispose]();
        throw error;
      }
      this.#system = system;
      this.#record = await this.#store.updateRecord(this.name, {
        status: 'running',
        volumePath,
        ...(record.persistent ? {} : { ownerPid: process.pid }),
      });
    });
  }

  /**
   * Stops the sandbox: a graceful shutdown, then a forced one after `timeoutMs`
   * (default 10 s). A persistent sandbox keeps its files for the next start.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<SystemExitStatus | undefined> {
    const system = this.#system;
    if (!system || system.closed) return undefined;
    let status: SystemExitStatus | undefined;
    try {
      status = await system.shutdown({ timeoutMs: options.timeoutMs ?? 10_000 });
    } catch {
      status = await system.terminate();
    }
    await system.close();
    this.#system = undefined;
    const uvm = this.#uvm;
    this.#uvm = undefined;
    if (uvm && !uvm.closed) {
      await uvm.shutdown({ timeoutMs: options.timeoutMs ?? 10_000 }).catch(() => uvm.terminate());
      await uvm.close();
    }
    this.#record = await this.#save({ status: 'stopped' });
    return status;
  }

  /** Stops the sandbox at once (terminate). */
  async kill(): Promise<void> {
    await this.#terminateAndClose();
    this.#record = await this.#save({ status: 'stopped' });
  }

  async pause(call: CallOptions = {}): Promise<void> {
    await this.#running().pause(call);
    this.#record = await this.#save({ status: 'paused' });
  }

  async resume(call: CallOptions = {}): Promise<void> {
    await this.#running().resume(call);
    this.#record = await this.#save({ status: 'running' });
  }

  /** Stops the sandbox if needed and deletes it: its compute system, writable layer and record. */
  async remove(): Promise<void> {
    if (this.#transient) return this.#terminateAndClose();
    await this.#store.withLock(this.name, async () => {
      await this.#store.updateRecord(this.name, { status: 'removing' });
      await this.#terminateAndClose();
      if ((this.#record.options as { network?: string }).network !== 'none') {
        await deleteSandboxNamespace(this.#record.id);
        await deleteEndpoint(this.#record.id);
      }
      if (this.#record.scratchDir) await destroyScratchLayer(this.#record.scratchDir);
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
  async *stats(options: { intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<SandboxStats> {
    const intervalMs = options.intervalMs ?? 1000;
    if (!(Number.isFinite(intervalMs) && intervalMs >= 50)) {
      throw new InvalidArgumentError('intervalMs', 'at least 50 milliseconds', intervalMs);
    }
    const cpus = hostFacts().cpus;
    let previous: { runtime100ns: number; at: number } | undefined;
    while (!options.signal?.aborted) {
      const props = await this.#running().properties<{
        Statistics?: HcsStatistics;
        ProcessList?: SandboxProcess[];
      }>({ PropertyTypes: ['Statistics', 'ProcessList'] }, options.signal ? { signal: options.signal } : {});
      const now = Date.now();
      const stats = props.Statistics ?? {};
      yield toSandboxStats(this.name, stats, props.ProcessList?.length ?? 0, previous, now, cpus);
      previous = { runtime100ns: stats.Processor?.TotalRuntime100ns ?? 0, at: now };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        options.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  /** The processes inside the sandbox (`ProcessList`). */
  async top(): Promise<SandboxProcess[]> {
    const props = await this.#running().properties<{ ProcessList?: SandboxProcess[] }>({
      PropertyTypes: ['ProcessList'],
    });
    return props.ProcessList ?? [];
  }

  /**
   * Changes limits of a running sandbox where HCS allows it (memory, CPU count
   * or cap); a build that cannot is reported with a clear error and nothing changes.
   */
  async update(limits: { memoryMB?: number; cpus?: number; cpuLimit?: number }): Promise<void> {
    const host = hostFacts();
    const checked = normaliseOptions(
      {
        image: this.#record.image ?? 'x',
        isolation: this.#record.isolation,
        ...(limits.memoryMB !== undefined && { memoryMB: limits.memoryMB }),
        ...(limits.cpus !== undefined && { cpus: limits.cpus }),
        ...(limits.cpuLimit !== undefined && { cpuLimit: limits.cpuLimit }),
      },
      host,
    );
    const system = this.#running();
    const requests = [
      ...(checked.memoryMB !== undefined
        ? [setMemoryRequest('container', checked.memoryMB, { memoryMB: host.memoryMB })]
        : []),
      ...(checked.cpus !== undefined || checked.cpuLimit !== undefined
        ? [
            setContainerProcessorRequest(
              checked.cpus !== undefined
                ? { count: checked.cpus }
                : { maximum: Math.round((checked.cpuLimit as number) * 100) },
              { logicalProcessorCount: host.cpus },
            ),
          ]
        : []),
    ];
    if (requests.length === 0) throw new InvalidArgumentError('limits', 'memoryMB, cpus or cpuLimit', limits);
    for (const request of requests) {
      try {
        await system.modify(request);
      } catch (error) {
        if (error instanceof HcsError && (error.isNotSupported() || error.isInvalidState())) {
          throw new LimitUpdateUnsupportedError(this.name, String(request.ResourcePath), error);
        }
        throw error;
      }
    }
    this.#record = await this.#save({
      status: this.#record.status,
      options: {
        ...this.#record.options,
        ...(checked.memoryMB !== undefined && { memoryMB: checked.memoryMB }),
        ...(checked.cpus !== undefined && { cpus: checked.cpus, cpuLimit: undefined }),
        ...(checked.cpuLimit !== undefined && { cpuLimit: checked.cpuLimit, cpus: undefined }),
      },
    });
  }

  /**
   * Turns this sandbox's changes into a new image (`reference`): its writable
   * layer is exported (`HcsExportLayer`) and imported into hcs-sandbox's store
   * on top of the image it was made from, so a prepared sandbox becomes the base
   * of others. The sandbox must be stopped (its files must not change meanwhile).
   */
  async commit(reference: string, options: { home?: string } = {}): Promise<ImageRecord> {
    const record = this.#record;
    if (record.isolation !== 'process' || !record.volumePath || !record.layers || !record.image) {
      throw new InvalidArgumentError(
        'sandbox',
        'a process-isolated sandbox with its writable layer',
        this.name,
      );
    }
    if (this.#system && !this.#system.closed && !this.#system.exitStatus) {
      throw new InvalidArgumentError(
        'sandbox',
        'a stopped sandbox (stop it first)',
        this.name,
        `status ${record.status}`,
      );
    }
    const home = options.home ?? this.#store.root;
    const store = new OwnImageSource({ root: home });
    const base = await resolveImage(record.image, { sources: defaultSources({ own: { root: home } }) });
    const work = await store.tempDir();
    const layerDir = store.layerDir(randomBytes(32).toString('hex'));
    try {
      const exported = join(work, 'export');
      await exportLayer(record.volumePath, exported, record.layers, { writable: true });
      await importLayer(layerDir, exported, record.layers);
      const image: ImageRecord = {
        reference,
        id: `sha256:${randomBytes(32).toString('hex')}`,
        source: 'hcs-sandbox',
        os: 'windows',
        ...(base.osVersion !== undefined && { osVersion: base.osVersion }),
        ...(base.build !== undefined && { build: base.build }),
        created: new Date().toISOString(),
        layers: [layerRef(layerDir), ...record.layers],
      };
      await store.addImage(image);
      return image;
    } catch (error) {
      await destroyLayer(layerDir).catch(() => undefined);
      throw error;
    } finally {
      await destroyLayer(work).catch(() => undefined);
    }
  }

  /** The sandbox's IP address on its network (as `wsb ip` prints), or undefined with network `none`. */
  async ip(): Promise<string | undefined> {
    return (await sandboxEndpoint(this.#record.id))?.ipAddress;
  }

  /** Releases this object's handle without stopping anything (another process can open the sandbox). */
  async close(): Promise<void> {
    await this.#system?.close();
  }

  // -------------------------------------------------------------------------

  /** Utility VM first (booted from the image's UtilityVM), its shares and disks, then the container inside it. */
  async #startHyperv(record: SandboxRecord, call: CallOptions): Promise<void> {
    const layers = record.layers as NonNullable<SandboxRecord['layers']>;
    const scratchDir = record.scratchDir as string;
    const uvmId = record.uvmId ?? `${record.id}-uvm`;
    const memoryMB = storedOptions(record).memoryMB;
    const documents = buildHypervContainer({
      uvmId,
      utilityVmFilesPath: utilityVmPaths({ layers }).files,
      uvmScratchVhdxPath: join(scratchDir, UVM_SCRATCH),
      layers,
      containerScratchVhdxPath: join(scratchDir, SCRATCH_VHDX),
      ...containerSettings(record),
      // The utility VM needs room for the container plus its own guest OS.
      ...(memoryMB !== undefined && { uvm: { memoryMB: Math.max(1024, memoryMB + 512) } }),
    });
    const { ioMaxIops, ioMaxBandwidth } = storedOptions(record);
    if (ioMaxIops !== undefined || ioMaxBandwidth !== undefined) {
      // Under Hyper-V isolation the container's IO goes through its utility VM: limit the VM.
      const vm = (documents.uvm as { VirtualMachine?: Record<string, unknown> }).VirtualMachine;
      if (vm) {
        vm.StorageQoS = {
          ...(ioMaxIops !== undefined && { IopsMaximum: ioMaxIops }),
          ...(ioMaxBandwidth !== undefined && { BandwidthMaximum: ioMaxBandwidth }),
        };
      }
    }
    const uvm = await ComputeSystem.create(uvmId, documents.uvm, call);
    let container: ComputeSystem | undefined;
    try {
      await uvm.start(call);
      for (const request of documents.prepareRequests) await uvm.modify(request, call);
      container = await ComputeSystem.create(record.id, documents.container, call);
      await container.start(call);
    } catch (error) {
      await container?.[Symbol.asyncDispose]();
      await uvm[Symbol.asyncDispose]();
      throw error;
    }
    this.#uvm = uvm;
    this.#system = container;
    this.#record = await this.#store.updateRecord(this.name, {
      status: 'running',
      uvmId,
      ...(record.persistent ? {} : { ownerPid: process.pid }),
    });
  }

  async #save(patch: { status: SandboxStatus; options?: Record<string, unknown> }): Promise<SandboxRecord> {
    if (this.#transient) return { ...this.#record, ...patch };
    return this.#store.updateRecord(this.name, patch);
  }

  #running(): ComputeSystem {
    if (!this.#system || this.#system.closed || this.#system.exitStatus) {
      throw new InvalidArgumentError(
        'sandbox',
        'a running sandbox (start it first)',
        this.name,
        `status ${this.#record.status}`,
      );
    }
    return this.#system;
  }

  #withDefaults<T extends CommandOptions>(options: T): T {
    const o = this.#record.options as { env?: Record<string, string>; workingDir?: string };
    return {
      ...options,
      ...((o.env || options.env) && { env: { ...o.env, ...options.env } }),
      ...(options.cwd === undefined && o.workingDir !== undefined && { cwd: o.workingDir }),
    };
  }

  async #mapFolder(folder: Required<MappedFolder>): Promise<void> {
    const hostPath = checkHostPath('hostPath', folder.hostPath);
    const sandboxPath = checkSandboxPath('sandboxPath', folder.sandboxPath);
    await this.#running().modify(
      addMappedDirectoryRequest({ hostPath, containerPath: sandboxPath, readOnly: folder.readOnly }),
    );
    const o = this.#record.options as { mappedFolders?: Required<MappedFolder>[] };
    this.#record = await this.#store.updateRecord(this.name, {
      options: {
        ...this.#record.options,
        mappedFolders: [...(o.mappedFolders ?? []), { hostPath, sandboxPath, readOnly: folder.readOnly }],
      },
    });
  }

  async #terminateAndClose(): Promise<void> {
    await this.#terminateContainer();
    const uvm = this.#uvm;
    this.#uvm = undefined;
    if (uvm && !uvm.closed) {
      await uvm.terminate().catch(() => undefined);
      await uvm.close();
    } else if (this.#record.uvmId) {
      await terminateById(this.#record.uvmId);
    }
  }

  async #terminateContainer(): Promise<void> {
    const system = this.#system;
    this.#system = undefined;
    if (system && !system.closed) {
      await system.terminate().catch(() => undefined);
      await system.close();
      return;
    }
    // Not ours in this process: the compute system may still run (opened elsewhere, or leaked).
    try {
      const other = await ComputeSystem.open(this.#record.id);
      await other.terminate().catch(() => undefined);
      await other.close();
    } catch (error) {
      if (!(error instanceof HcsError && error.isNotFound())) throw error;
    }
  }
}

const UVM_SCRATCH = 'uvm.vhdx';

/** The creation options kept in a sandbox record (JSON). */
interface StoredOptions {
  memoryMB?: number;
  cpus?: number;
  cpuLimit?: number;
  cpuWeight?: number;
  ioMaxIops?: number;
  ioMaxBandwidth?: number;
  mappedFolders?: Required<MappedFolder>[];
  hostName?: string;
  owner?: string;
  namespaceId?: string;
}

function storedOptions(record: SandboxRecord): StoredOptions {
  return record.options as StoredOptions;
}

/** What both container documents (process and Hyper-V isolation) take from a record. */
function containerSettings(record: SandboxRecord) {
  const o = storedOptions(record);
  return {
    owner: o.owner ?? 'hcs-sandbox',
    outliveCreator: record.persistent,
    ...(o.namespaceId !== undefined && { networking: { namespaceId: o.namespaceId } }),
    ...(o.hostName !== undefined && { hostName: o.hostName }),
    ...(o.memoryMB !== undefined && { memoryMB: o.memoryMB }),
    ...((o.cpus !== undefined || o.cpuLimit !== undefined || o.cpuWeight !== undefined) && {
      processor:
        o.cpus !== undefined
          ? { count: o.cpus }
          : o.cpuLimit !== undefined
            ? { maximum: Math.round(o.cpuLimit * 100) }
            : { weight: o.cpuWeight as number },
    }),
    mappedDirectories: (o.mappedFolders ?? []).map((f) => ({
      hostPath: f.hostPath,
      containerPath: f.sandboxPath,
      readOnly: f.readOnly,
    })),
  };
}

/** Where a base layer keeps its utility VM image and scratch template. */
function utilityVmPaths(image: { layers: ImageRecord['layers'] }): { files: string; template: string } {
  const base = image.layers.at(-1);
  if (!base) throw new InvalidArgumentError('image', 'an image with at least one layer', image);
  return {
    files: join(base.path, 'UtilityVM', 'Files'),
    template: join(base.path, 'UtilityVM', 'SystemTemplate.vhdx'),
  };
}

function checkUtilityVm(image: ImageRecord): void {
  const { files, template } = utilityVmPaths(image);
  if (!existsSync(files) || !existsSync(template)) {
    throw new InvalidArgumentError(
      'image',
      'an image whose base layer carries a utility VM (UtilityVM\\Files and UtilityVM\\SystemTemplate.vhdx), e.g. Windows Server Core',
      image.reference,
      'Hyper-V isolation boots the utility VM from the image',
    );
  }
}

async function terminateById(id: string): Promise<void> {
  try {
    const other = await ComputeSystem.open(id);
    await other.terminate().catch(() => undefined);
    await other.close();
  } catch (error) {
    if (!(error instanceof HcsError && error.isNotFound())) throw error;
  }
}

function checkImage(image: ImageRecord, isolation: 'process' | 'hyperv', hostBuild: number): void {
  if (image.build !== undefined && hostBuild > 0) {
    checkCompatibility({ imageBuild: image.build, hostBuild, isolation });
  }
}

function ownersOf(records: SandboxRecord[]): string[] {
  const owners = new Set(
    records.map((r) => String((r.options as { owner?: string }).owner ?? 'hcs-sandbox')),
  );
  owners.add('hcs-sandbox');
  return [...owners];
}

/** HCS is the truth for what runs; the record says what exists. */
function reconcile(record: SandboxRecord, state: string | undefined): SandboxStatus {
  if (record.status === 'creating' || record.status === 'removing') return record.status;
  switch (state) {
    case 'Running':
      return 'running';
    case 'Paused':
      return 'paused';
    case 'Created':
      return 'created';
    case undefined:
      return record.status === 'created' ? 'created' : 'stopped';
    default:
      return 'stopped';
  }
}

async function infoOf(record: SandboxRecord): Promise<SandboxInfo> {
  const o = record.options as { memoryMB?: number; cpus?: number; mappedFolders?: MappedFolder[] };
  return {
    name: record.name,
    id: record.id,
    status: record.status,
    isolation: record.isolation,
    image: record.image,
    persistent: record.persistent,
    createdAt: record.createdAt,
    memoryMB: o.memoryMB,
    cpus: o.cpus,
    mappedFolders: o.mappedFolders ?? [],
    scratchBytes: record.scratchDir ? await scratchSize(record.scratchDir).catch(() => undefined) : undefined,
    network: String((record.options as { network?: string }).network ?? 'none'),
    ports: ((record.options as { ports?: string[] }).ports ?? []).slice(),
    ip:
      (record.options as { network?: string }).network === 'none'
        ? undefined
        : await sandboxEndpoint(record.id)
            .then((e) => e?.ipAddress)
            .catch(() => undefined),
  };
}
