import { existsSync } from 'node:fs';
import { type CallOptions, ComputeSystem } from '../../hcs/index.js';
import { buildProcessContainer } from '../../schema/index.js';
import { destroyScratchLayer, mountedScratchLayer, mountScratchLayer } from '../../storage/index.js';
import { SandboxNotFoundError } from '../errors.js';
import type { SandboxRecord } from '../record.js';
import {
  CONTAINER_STOP_TIMEOUT_MS,
  checkImageBuild,
  containerLimitRequests,
  containerSettings,
  createWritableLayer,
  LiveContainer,
  mapContainerFolder,
  openIfExists,
  resolveContainerImage,
  storageQoS,
  terminateById,
} from './container-common.js';
import type { IsolationDriver, StartedSandbox } from './driver.js';

/**
 * Process isolation: a Windows Server container sharing the host's kernel.
 * Its writable layer stays mounted on the host while the sandbox exists, which
 * is how `files` and `commit` reach it.
 */
export const processDriver: IsolationDriver = {
  isolation: 'process',

  stopTimeoutMs: CONTAINER_STOP_TIMEOUT_MS,
  checkOptions() {},
  resolveImage: resolveContainerImage,
  // HcsCreateProcess reaches a container's processes through HCS's own guest connection.
  checkCommands() {},

  checkImage(image, host) {
    checkImageBuild(image, 'process', host);
  },

  async prepare(plan, undo, call) {
    const scratch = await createWritableLayer(plan, undo, call);
    return { volumePath: scratch.volumePath };
  },

  async start(record: SandboxRecord, call: CallOptions): Promise<StartedSandbox> {
    if (!record.scratchDir || !record.layers) throw new SandboxNotFoundError(record.name);
    // Mounted by this process (create, then start): use it. Else, after a host
    // restart the writable layer is no longer attached: mount it again.
    let volumePath = mountedScratchLayer(record.scratchDir)?.volumePath;
    if (!volumePath) {
      volumePath = record.volumePath;
      if (!volumePath || !existsSync(volumePath)) {
        volumePath = (await mountScratchLayer(record.scratchDir, record.layers)).volumePath;
      }
    }
    const qos = storageQoS(record);
    const document = buildProcessContainer({
      layers: record.layers,
      scratchPath: volumePath,
      ...containerSettings(record),
      ...(qos && { storageQoS: qos }),
    });
    const system = await ComputeSystem.create(record.id, document, call);
    try {
      await system.start(call);
    } catch (error) {
      await system[Symbol.asyncDispose]();
      throw error;
    }
    return { live: new LiveContainer(system), volumePath };
  },

  async attach(record) {
    const system = await openIfExists(record.id);
    return system && new LiveContainer(system);
  },

  async terminate(record, live) {
    if (live && !live.system.closed) await live.terminate();
    else await terminateById(record.id);
  },

  async teardown(_record, scratchDir) {
    if (scratchDir) await destroyScratchLayer(scratchDir);
  },

  limitRequests: containerLimitRequests,
  mapFolder: mapContainerFolder,

  writableLayer(record) {
    if (!record.volumePath || !record.layers) return { unavailable: 'its writable layer is not mounted' };
    return { volumePath: record.volumePath, layers: record.layers };
  },
};
