import { type CallOptions, ComputeSystem, HcsError, type SystemExitStatus } from '../../hcs/index.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import type { ContainerIsolation } from '../../internal/isolation.js';
import {
  addMappedDirectoryRequest,
  DEFAULT_OWNER,
  type ModifySettingRequestDocument,
  setContainerProcessorRequest,
  setMemoryRequest,
} from '../../schema/index.js';
import {
  checkCompatibility,
  createScratchLayer,
  defaultSources,
  destroyScratchLayer,
  type ImageRecord,
  resolveImage,
  type ScratchLayer,
  type UndoStack,
} from '../../storage/index.js';
import type { HostFacts } from '../host.js';
import type { SandboxRecord, StoredMappedFolder } from '../record.js';
import type { Limits, LiveSandbox, PrepareCallOptions, PreparePlan } from './driver.js';

/**
 * What the two container isolations (process and Hyper-V) share: the
 * container settings they take from a record, their limit and folder
 * requests, and how their compute systems are held and stopped.
 */

/** The container document settings both isolations take from a record. */
export function containerSettings(record: SandboxRecord) {
  const o = record.options;
  return {
    owner: o.owner ?? DEFAULT_OWNER,
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

/** The container's writable layer over the image's layers, removed again if create fails later. */
export async function createWritableLayer(
  plan: PreparePlan,
  undo: UndoStack,
  call: PrepareCallOptions,
): Promise<ScratchLayer> {
  const scratch = await createScratchLayer(
    { dir: plan.scratchDir, sizeGB: plan.options.scratchSizeGB, parents: plan.image.layers },
    {
      ...(call.signal && { signal: call.signal }),
      ...(call.onProgress && { onProgress: call.onProgress }),
    },
  );
  undo.push('writable layer', () => destroyScratchLayer(plan.scratchDir));
  return scratch;
}

/** Storage QoS from a record, in the schema's words, when any limit is set. */
export function storageQoS(
  record: SandboxRecord,
): { iopsMaximum?: number; bandwidthMaximum?: number } | undefined {
  const { ioMaxIops, ioMaxBandwidth } = record.options;
  if (ioMaxIops === undefined && ioMaxBandwidth === undefined) return undefined;
  return {
    ...(ioMaxIops !== undefined && { iopsMaximum: ioMaxIops }),
    ...(ioMaxBandwidth !== undefined && { bandwidthMaximum: ioMaxBandwidth }),
  };
}

/** A container's stop: the time its init process gets to exit before it is terminated. */
export const CONTAINER_STOP_TIMEOUT_MS = 10_000;

/** A container image from the image sources (docker, containerd, hcs-sandbox's own store under `home`, host). */
export async function resolveContainerImage(
  reference: string | undefined,
  home: string | undefined,
): Promise<ImageRecord> {
  if (reference === undefined) throw new InvalidArgumentError('image', 'an image reference', undefined);
  const sources = defaultSources(home === undefined ? {} : { own: { root: home } });
  return resolveImage(reference, { sources });
}

/** The Windows build rule between image and host (process isolation needs a match; Hyper-V runs older). */
export function checkImageBuild(
  image: Pick<ImageRecord, 'build'>,
  isolation: ContainerIsolation,
  host: HostFacts,
): void {
  if (image.build !== undefined && host.build > 0) {
    checkCompatibility({ imageBuild: image.build, hostBuild: host.build, isolation });
  }
}

/** Memory and CPU changes of a running container (the same requests under both isolations). */
export function containerLimitRequests(limits: Limits, host: HostFacts): ModifySettingRequestDocument[] {
  return [
    ...(limits.memoryMB !== undefined
      ? [setMemoryRequest('container', limits.memoryMB, { memoryMB: host.memoryMB })]
      : []),
    ...(limits.cpus !== undefined || limits.cpuLimit !== undefined
      ? [
          setContainerProcessorRequest(
            limits.cpus !== undefined
              ? { count: limits.cpus }
              : { maximum: Math.round((limits.cpuLimit as number) * 100) },
            { logicalProcessorCount: host.cpus },
          ),
        ]
      : []),
  ];
}

export async function mapContainerFolder(
  live: LiveSandbox,
  folder: StoredMappedFolder,
  call: CallOptions,
): Promise<void> {
  await live.system.modify(
    addMappedDirectoryRequest({
      hostPath: folder.hostPath,
      containerPath: folder.sandboxPath,
      readOnly: folder.readOnly,
    }),
    call,
  );
}

/** Opens a compute system by id, or `undefined` when HCS knows none. */
export async function openIfExists(id: string): Promise<ComputeSystem | undefined> {
  try {
    return await ComputeSystem.open(id);
  } catch (error) {
    if (error instanceof HcsError && error.isNotFound()) return undefined;
    throw error;
  }
}

/** Terminates a compute system this process does not hold (opened elsewhere, or leaked), if it exists. */
export async function terminateById(id: string): Promise<void> {
  const system = await openIfExists(id);
  if (!system) return;
  await system.terminate().catch(() => undefined);
  await system.close();
}

async function terminateHeld(system: ComputeSystem | undefined): Promise<void> {
  if (!system || system.closed) return;
  await system.terminate().catch(() => undefined);
  await system.close();
}

/**
 * A container's compute system as this process holds it, with the utility
 * VM that hosts it under Hyper-V isolation (stopped after the container).
 */
export class LiveContainer implements LiveSandbox {
  readonly system: ComputeSystem;
  readonly #host: ComputeSystem | undefined;

  constructor(system: ComputeSystem, host?: ComputeSystem) {
    this.system = system;
    this.#host = host;
  }

  get ended(): boolean {
    return this.system.closed || this.system.exitStatus !== undefined;
  }

  async stop(timeoutMs: number): Promise<SystemExitStatus | undefined> {
    let status: SystemExitStatus | undefined;
    try {
      status = await this.system.shutdown({ timeoutMs });
    } catch {
      status = await this.system.terminate();
    }
    await this.system.close();
    const host = this.#host;
    if (host && !host.closed) {
      await host.shutdown({ timeoutMs }).catch(() => host.terminate());
      await host.close();
    }
    return status;
  }

  async terminate(): Promise<void> {
    await terminateHeld(this.system);
    await terminateHeld(this.#host);
  }

  async close(): Promise<void> {
    await this.system.close();
    await this.#host?.close();
  }
}
