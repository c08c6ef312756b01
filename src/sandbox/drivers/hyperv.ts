import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CallOptions, ComputeSystem } from '../../hcs/index.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { buildHypervContainer } from '../../schema/index.js';
import {
  destroyScratchLayer,
  type ImageRecord,
  SCRATCH_VHDX,
  unmountScratchLayer,
} from '../../storage/index.js';
import { SandboxNotFoundError } from '../errors.js';
import type { SandboxRecord } from '../record.js';
import {
  checkImageBuild,
  containerLimitRequests,
  containerSettings,
  createWritableLayer,
  LiveContainer,
  mapContainerFolder,
  openIfExists,
  storageQoS,
  terminateById,
} from './container-common.js';
import type { IsolationDriver, StartedSandbox } from './driver.js';

/** The utility VM's own scratch disk, beside the container's in the sandbox's folder. */
const UVM_SCRATCH = 'uvm.vhdx';

/**
 * Hyper-V isolation: the container runs inside a utility VM booted from the
 * image's own `UtilityVM` folder. The VM attaches the container's writable
 * layer itself (SCSI), so the host does not keep it mounted: `files` and
 * `commit` cannot reach it.
 */
export const hypervDriver: IsolationDriver = {
  isolation: 'hyperv',

  checkOptions() {},

  checkImage(image, host) {
    checkImageBuild(image, 'hyperv', host);
    const { files, template } = utilityVmPaths(image.layers);
    if (!existsSync(files) || !existsSync(template)) {
      throw new InvalidArgumentError(
        'image',
        'an image whose base layer carries a utility VM (UtilityVM\\Files and UtilityVM\\SystemTemplate.vhdx), e.g. Windows Server Core',
        image.reference,
        'Hyper-V isolation boots the utility VM from the image',
      );
    }
  },

  async prepare(plan, undo, call) {
    const scratch = await createWritableLayer(plan, undo, call);
    // The utility VM attaches the container's scratch disk itself, so it must not
    // stay attached on the host; the VM boots from a copy of the image's scratch template.
    await unmountScratchLayer(scratch);
    await copyFile(utilityVmPaths(plan.image.layers).template, join(plan.scratchDir, UVM_SCRATCH));
    return { uvmId: `${plan.id}-uvm` };
  },

  /** Utility VM first, its shares and disks, then the container inside it. */
  async start(record: SandboxRecord, call: CallOptions): Promise<StartedSandbox> {
    const { layers, scratchDir } = record;
    if (!scratchDir || !layers) throw new SandboxNotFoundError(record.name);
    const uvmId = record.uvmId ?? `${record.id}-uvm`;
    const memoryMB = record.options.memoryMB;
    const documents = buildHypervContainer({
      uvmId,
      utilityVmFilesPath: utilityVmPaths(layers).files,
      uvmScratchVhdxPath: join(scratchDir, UVM_SCRATCH),
      layers,
      containerScratchVhdxPath: join(scratchDir, SCRATCH_VHDX),
      ...containerSettings(record),
      // The utility VM needs room for the container plus its own guest OS.
      ...(memoryMB !== undefined && { uvm: { memoryMB: Math.max(1024, memoryMB + 512) } }),
    });
    const qos = storageQoS(record);
    const vm = (documents.uvm as { VirtualMachine?: Record<string, unknown> }).VirtualMachine;
    if (qos && vm) {
      // The container's IO goes through its utility VM: the limit belongs to the VM.
      vm.StorageQoS = {
        ...(qos.iopsMaximum !== undefined && { IopsMaximum: qos.iopsMaximum }),
        ...(qos.bandwidthMaximum !== undefined && { BandwidthMaximum: qos.bandwidthMaximum }),
      };
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
    return { live: new LiveContainer(container, uvm), uvmId };
  },

  async attach(record) {
    const container = await openIfExists(record.id);
    if (!container) return undefined;
    const uvm = record.uvmId ? await openIfExists(record.uvmId) : undefined;
    return new LiveContainer(container, uvm);
  },

  async terminate(record, live) {
    if (live && !live.system.closed) await live.terminate();
    else await terminateById(record.id);
    // The utility VM may be held by another process, or outlive a crashed container.
    if (record.uvmId) await terminateById(record.uvmId);
  },

  async teardown(record) {
    if (record.scratchDir) await destroyScratchLayer(record.scratchDir);
  },

  limitRequests: containerLimitRequests,
  mapFolder: mapContainerFolder,

  writableLayer() {
    return { unavailable: 'its writable layer lives inside its utility VM (use process isolation)' };
  },
};

/** Where a base layer keeps its utility VM image and scratch template. */
function utilityVmPaths(layers: ImageRecord['layers']): { files: string; template: string } {
  const base = layers.at(-1);
  if (!base) throw new InvalidArgumentError('image', 'an image with at least one layer', layers);
  return {
    files: join(base.path, 'UtilityVM', 'Files'),
    template: join(base.path, 'UtilityVM', 'SystemTemplate.vhdx'),
  };
}
