import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CallOptions, ComputeSystem, grantVmAccess } from '../../hcs/index.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { endpointName, HcnClient, HcnError, ownedId } from '../../network/index.js';
import {
  addGuestNetworkNamespaceRequest,
  buildHypervContainer,
  type ComputeSystemDocument,
  type ModifySettingRequestDocument,
  UVM_SCSI_CONTROLLER,
  utilityVmNicRequests,
} from '../../schema/index.js';
import {
  destroyScratchLayer,
  type LayerRef,
  SCRATCH_VHDX,
  unmountScratchLayer,
} from '../../storage/index.js';
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

  stopTimeoutMs: CONTAINER_STOP_TIMEOUT_MS,
  checkOptions() {},
  resolveImage: resolveContainerImage,
  // HcsCreateProcess reaches a container's processes through HCS's own guest connection.
  checkCommands() {},

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

  /**
   * Utility VM first, its shares and disks, its network, then the container
   * inside it; once more with SCSI controller key "0" if the host refuses the
   * GUID key for the scratch disk (REAL-WINDOWS-AUDIT row 12).
   */
  async start(record: SandboxRecord, call: CallOptions): Promise<StartedSandbox> {
    if (!record.scratchDir || !record.layers) throw new SandboxNotFoundError(record.name);
    const uvmId = record.uvmId ?? `${record.id}-uvm`;
    const network = await guestNetworkRequests(record);
    const first = workingScsiController ?? UVM_SCSI_CONTROLLER;
    try {
      return await boot(record, uvmId, first, network, call);
    } catch (error) {
      if (!(error instanceof ScsiAddFailed) || first === INDEX_SCSI_CONTROLLER) throw unwrap(error);
      const started = await boot(record, uvmId, INDEX_SCSI_CONTROLLER, network, call).catch(() => {
        throw error.cause;
      });
      workingScsiController = INDEX_SCSI_CONTROLLER;
      process.emitWarning(
        `Hyper-V: the host refused the scratch disk under SCSI controller ${first} (${String(error.cause)}); utility VMs of this process use controller "0" instead`,
        { code: 'HCS_SANDBOX_SCSI_CONTROLLER_FALLBACK' },
      );
      return started;
    }
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

  async teardown(_record, scratchDir) {
    if (scratchDir) await destroyScratchLayer(scratchDir);
  },

  limitRequests: containerLimitRequests,
  mapFolder: mapContainerFolder,

  writableLayer() {
    return { unavailable: 'its writable layer lives inside its utility VM (use process isolation)' };
  },
};

/** The key hcsshim used with HCS's internal guest connection until 2021 (commit cd895b4d1). */
const INDEX_SCSI_CONTROLLER = '0';
/** The controller key that worked in this process once the GUID key was refused. */
let workingScsiController: string | undefined;

/** A SCSI hot-add the host refused (`cause`): the one failure worth a retry under another key. */
class ScsiAddFailed extends Error {
  constructor(override readonly cause: unknown) {
    super('SCSI hot-add refused');
  }
}

function unwrap(error: unknown): unknown {
  return error instanceof ScsiAddFailed ? error.cause : error;
}

/**
 * Creates, starts and prepares the utility VM with `scsiController`, then
 * creates and starts the container in it; on any failure both are terminated.
 * Every disk is granted to the VM before the request that attaches it.
 */
async function boot(
  record: SandboxRecord,
  uvmId: string,
  scsiController: string,
  network: ModifySettingRequestDocument[],
  call: CallOptions,
): Promise<StartedSandbox> {
  const { layers, scratchDir } = record as Required<Pick<SandboxRecord, 'layers' | 'scratchDir'>>;
  const memoryMB = record.options.memoryMB;
  const documents = buildHypervContainer({
    uvmId,
    utilityVmFilesPath: utilityVmPaths(layers).files,
    uvmScratchVhdxPath: join(scratchDir, UVM_SCRATCH),
    layers,
    containerScratchVhdxPath: join(scratchDir, SCRATCH_VHDX),
    scsiController,
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
  for (const disk of scsiDisksOf(documents.uvm)) await grantVmAccess(uvmId, disk);
  const uvm = await ComputeSystem.create(uvmId, documents.uvm, call);
  let container: ComputeSystem | undefined;
  try {
    await uvm.start(call);
    for (const request of documents.prepareRequests) {
      const disk = scsiDiskOf(request);
      if (!disk) {
        await uvm.modify(request, call);
        continue;
      }
      await grantVmAccess(uvmId, disk);
      await uvm.modify(request, call).catch((error: unknown) => {
        throw new ScsiAddFailed(error);
      });
    }
    for (const request of network) await uvm.modify(request, call);
    container = await ComputeSystem.create(record.id, documents.container, call);
    await container.start(call);
  } catch (error) {
    await container?.[Symbol.asyncDispose]();
    await uvm[Symbol.asyncDispose]();
    throw error;
  }
  return { live: new LiveContainer(container, uvm), uvmId };
}

/** The host files the create document attaches over SCSI (the UVM's scratch). */
function scsiDisksOf(document: ComputeSystemDocument): string[] {
  const scsi = document.VirtualMachine?.Devices?.Scsi;
  return Object.values(scsi ?? {}).flatMap((controller) =>
    Object.values(controller.Attachments ?? {}).flatMap((a) => (a.Path ? [a.Path] : [])),
  );
}

/** The host file a SCSI hot-add attaches, or undefined for any other request. */
function scsiDiskOf(request: ModifySettingRequestDocument): string | undefined {
  if (request.RequestType !== 'Add' || !request.ResourcePath?.startsWith('VirtualMachine/Devices/Scsi/')) {
    return undefined;
  }
  return (request.Settings as { Path?: string } | undefined)?.Path;
}

/**
 * The requests that give the utility VM the sandbox's network (hcsshim
 * `SetupNetworkNamespace`): the HCN namespace into the guest, then the
 * sandbox's endpoint as a NIC. Without them the hosted container's
 * `Networking.Namespace` names a namespace the VM does not have.
 */
async function guestNetworkRequests(record: SandboxRecord): Promise<ModifySettingRequestDocument[]> {
  const namespaceId = record.options.namespaceId;
  if (record.options.network === 'none' || namespaceId === undefined) return [];
  const hcn = new HcnClient();
  const endpointId = ownedId('endpoint', endpointName(record.id));
  const namespace = await hcn.namespace(namespaceId);
  if (!namespace)
    throw new HcnError({
      hresult: HR_NOT_FOUND,
      operation: 'HcnOpenNamespace',
      subject: `namespace ${namespaceId}`,
    });
  const endpoint = await hcn.endpoint(endpointId);
  if (!endpoint)
    throw new HcnError({
      hresult: HCN_E_ENDPOINT_NOT_FOUND,
      operation: 'HcnOpenEndpoint',
      subject: `endpoint ${endpointId}`,
    });
  return [
    addGuestNetworkNamespaceRequest(namespace),
    ...utilityVmNicRequests({ nicId: randomUUID(), endpoint }),
  ];
}

/** `HRESULT_FROM_WIN32(ERROR_NOT_FOUND)`, what HCN gives for a missing namespace. */
const HR_NOT_FOUND = 0x80070490;
const HCN_E_ENDPOINT_NOT_FOUND = 0x803b0002;

/** Where a base layer keeps its utility VM image and scratch template. */
function utilityVmPaths(layers: LayerRef[]): { files: string; template: string } {
  const base = layers.at(-1);
  if (!base) throw new InvalidArgumentError('image', 'an image with at least one layer', layers);
  return {
    files: join(base.path, 'UtilityVM', 'Files'),
    template: join(base.path, 'UtilityVM', 'SystemTemplate.vhdx'),
  };
}
