/**
 * `ModifySettingRequest` documents for `HcsModifyComputeSystem` (HCS-NOTES §5e;
 * resource paths from hcsshim `internal/hcs/resourcepaths`).
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkBoolean,
  checkEnum,
  checkGuestPath,
  checkHost,
  checkHostPath,
  checkInteger,
  checkMemoryMB,
  checkObject,
  checkShareName,
  checkText,
  type HostFacts,
} from './common.js';
import {
  buildContainerProcessor,
  type ContainerProcessorInput,
  checkLayers,
  type LayerInput,
  MIN_CONTAINER_MEMORY_MB,
} from './process-container.js';
import {
  alignMemoryMB,
  buildNetworkAdapter,
  buildVsmbShare,
  MIN_VM_MEMORY_MB,
  type NetworkAdapterInput,
  type VsmbShareInput,
} from './vm-common.js';

/** A `ModifySettingRequest` whose `Settings` and `GuestRequest` are typed. */
export interface ModifySettingRequestDocument<S = unknown>
  extends Omit<Hcs.ModifySettingRequest, 'Settings'> {
  Settings?: S;
  GuestRequest?: GuestModifySettingRequestDocument;
}

export interface GuestModifySettingRequestDocument<S = unknown>
  extends Omit<Hcs.GuestModifySettingRequest, 'Settings' | 'ResourceType'> {
  /**
   * The published schema's types plus `Network`, the guest NIC requests hcsshim
   * sends (`internal/protocol/guestresource` `ResourceTypeNetwork`).
   */
  ResourceType?: Hcs.ModifyResourceType | 'Network';
  Settings?: S;
}

export const RESOURCE_PATHS = {
  containerMappedDirectories: 'Container/MappedDirectories',
  containerMemory: 'Container/Memory/SizeInMB',
  containerProcessor: 'Container/Processor',
  vmMemory: 'VirtualMachine/ComputeTopology/Memory/SizeInMB',
  vmGpu: 'VirtualMachine/ComputeTopology/Gpu',
  vmVsmbShares: 'VirtualMachine/Devices/VirtualSmb/Shares',
  vmNetworkAdapter: (name: string) => `VirtualMachine/Devices/NetworkAdapters/${name}`,
  vmScsiAttachment: (controller: string, lun: number) =>
    `VirtualMachine/Devices/Scsi/${controller}/Attachments/${lun}`,
} as const;

export interface MappedDirectoryChange {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

function mappedDirectory(input: unknown, host: HostFacts): Hcs.MappedDirectory {
  checkObject('mapping', input);
  const m = input as MappedDirectoryChange;
  return {
    HostPath: checkHostPath('hostPath', m.hostPath, { host, mustExist: true }),
    ContainerPath: checkGuestPath('containerPath', m.containerPath),
    ReadOnly: m.readOnly === undefined ? false : checkBoolean('readOnly', m.readOnly),
  };
}

/** Adds a mapped folder to a running process-isolated container. */
export function addMappedDirectoryRequest(
  mapping: MappedDirectoryChange,
  host?: HostFacts,
): ModifySettingRequestDocument<Hcs.MappedDirectory> {
  return {
    ResourcePath: RESOURCE_PATHS.containerMappedDirectories,
    RequestType: 'Add',
    Settings: mappedDirectory(mapping, checkHost(host)),
  };
}

/**
 * Removes a mapped folder from a running container. Same document as the add,
 * with `RequestType: "Remove"`; runtime removal is UNCONFIRMED on real hosts.
 */
export function removeMappedDirectoryRequest(
  mapping: MappedDirectoryChange,
): ModifySettingRequestDocument<Hcs.MappedDirectory> {
  return {
    ResourcePath: RESOURCE_PATHS.containerMappedDirectories,
    RequestType: 'Remove',
    Settings: mappedDirectory(mapping, {}),
  };
}

/** Adds a VSMB share to a running VM. */
export function addVsmbShareRequest(
  share: VsmbShareInput,
  host?: HostFacts,
): ModifySettingRequestDocument<Hcs.VirtualSmbShare> {
  return {
    ResourcePath: RESOURCE_PATHS.vmVsmbShares,
    RequestType: 'Add',
    Settings: buildVsmbShare('share', share, checkHost(host)),
  };
}

/** Removes a VSMB share from a running VM; only the name is needed (hcsshim `RemoveVSMB`). */
export function removeVsmbShareRequest(name: string): ModifySettingRequestDocument<Hcs.VirtualSmbShare> {
  return {
    ResourcePath: RESOURCE_PATHS.vmVsmbShares,
    RequestType: 'Remove',
    Settings: { Name: checkShareName('name', name) },
  };
}

/** Hot-adds a network adapter backed by an HCN endpoint to a running VM. */
export function addNetworkAdapterRequest(
  adapter: NetworkAdapterInput,
): ModifySettingRequestDocument<Hcs.NetworkAdapter> {
  const { key, adapter: settings } = buildNetworkAdapter('adapter', adapter);
  return { ResourcePath: RESOURCE_PATHS.vmNetworkAdapter(key), RequestType: 'Add', Settings: settings };
}

/** Removes a network adapter by its key (the name used when adding it, by default the endpoint id). */
export function removeNetworkAdapterRequest(name: string): ModifySettingRequestDocument<never> {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_. -]{1,64}$/.test(name)) {
    throw new InvalidArgumentError('name', 'the adapter key (by default the endpoint GUID)', name);
  }
  return { ResourcePath: RESOURCE_PATHS.vmNetworkAdapter(name), RequestType: 'Remove' };
}

export type MemoryTarget = 'container' | 'vm';

/**
 * Changes the memory of a running container (job limit, >= 256 MB) or VM
 * (>= 1024 MB, aligned up to an even number of MB). Depends on guest support for VMs.
 */
export function setMemoryRequest(
  target: MemoryTarget,
  sizeInMB: number,
  host?: HostFacts,
): ModifySettingRequestDocument<number> {
  const t = checkEnum('target', target, ['container', 'vm'] as const);
  const h = checkHost(host);
  if (t === 'container') {
    return {
      ResourcePath: RESOURCE_PATHS.containerMemory,
      RequestType: 'Update',
      Settings: checkMemoryMB('sizeInMB', sizeInMB, MIN_CONTAINER_MEMORY_MB, h),
    };
  }
  return {
    ResourcePath: RESOURCE_PATHS.vmMemory,
    RequestType: 'Update',
    Settings: alignMemoryMB(checkMemoryMB('sizeInMB', sizeInMB, MIN_VM_MEMORY_MB, h)),
  };
}

/** Changes a running container's CPU limit (one of count, maximum, weight). */
export function setContainerProcessorRequest(
  processor: ContainerProcessorInput,
  host?: HostFacts,
): ModifySettingRequestDocument<Hcs.Container_Processor> {
  return {
    ResourcePath: RESOURCE_PATHS.containerProcessor,
    RequestType: 'Update',
    Settings: buildContainerProcessor('processor', processor, checkHost(host)),
  };
}

export interface GpuInput {
  /** `Default` = the default GPU, `Mirror` = all GPUs, `List` = those in `devices`, `Disabled` = remove. */
  assignmentMode: Hcs.GpuAssignmentMode;
  /** For `List`: GPU device interface path → partition id (65535 = let HCS pick, GPU-PV). */
  devices?: Record<string, number>;
  /** Default true (NanaBox always sends it). */
  allowVendorExtension?: boolean;
}

export const GPU_ASSIGNMENT_MODES: readonly Hcs.GpuAssignmentMode[] = [
  'Disabled',
  'Default',
  'List',
  'Mirror',
];

export function buildGpuConfiguration(field: string, value: unknown): Hcs.GpuConfiguration {
  checkObject(field, value);
  const g = value as GpuInput;
  const mode = checkEnum(`${field}.assignmentMode`, g.assignmentMode, GPU_ASSIGNMENT_MODES);
  const out: Hcs.GpuConfiguration = { AssignmentMode: mode };
  if (mode === 'List') {
    checkObject(`${field}.devices`, g.devices);
    const entries = Object.entries(g.devices as Record<string, unknown>);
    if (entries.length === 0) {
      throw new InvalidArgumentError(
        `${field}.devices`,
        'at least one GPU device interface path in List mode',
        g.devices,
      );
    }
    const request: Record<string, number> = {};
    for (const [path, partition] of entries) {
      checkText(`${field}.devices.<key>`, path);
      request[path] = checkInteger(`${field}.devices[${path}]`, partition, 0, 65535);
    }
    out.AssignmentRequest = request;
  } else if (g.devices !== undefined) {
    throw new InvalidArgumentError(
      `${field}.devices`,
      'no devices unless assignmentMode is "List"',
      g.devices,
    );
  }
  if (mode !== 'Disabled') {
    out.AllowVendorExtension =
      g.allowVendorExtension === undefined
        ? true
        : checkBoolean(`${field}.allowVendorExtension`, g.allowVendorExtension);
  }
  return out;
}

/**
 * Assigns (or with `Disabled`, removes) GPU-PV on a running VM. GPU-PV is not part
 * of the create document: send this after `HcsStartComputeSystem`.
 */
export function setGpuRequest(gpu: GpuInput): ModifySettingRequestDocument<Hcs.GpuConfiguration> {
  return {
    ResourcePath: RESOURCE_PATHS.vmGpu,
    RequestType: 'Update',
    Settings: buildGpuConfiguration('gpu', gpu),
  };
}

/** Hot-adds a VHDX to a VM's SCSI controller (grant VM access to the file first). */
export function addScsiDiskRequest(input: {
  controller: string;
  lun: number;
  path: string;
  readOnly?: boolean;
  guestMountPath?: string;
  host?: HostFacts;
}): ModifySettingRequestDocument<Hcs.Attachment> {
  checkObject('options', input);
  const host = checkHost(input.host);
  const controller = checkText('controller', input.controller, { max: 128 });
  if (controller.includes('/'))
    throw new InvalidArgumentError('controller', 'a controller key without "/"', controller);
  const lun = checkInteger('lun', input.lun, 0, 63);
  const attachment: Hcs.Attachment = {
    Type: 'VirtualDisk',
    Path: checkHostPath('path', input.path, { host, mustExist: true }),
  };
  if (input.readOnly !== undefined) attachment.ReadOnly = checkBoolean('readOnly', input.readOnly);
  const request: ModifySettingRequestDocument<Hcs.Attachment> = {
    ResourcePath: RESOURCE_PATHS.vmScsiAttachment(controller, lun),
    RequestType: 'Add',
    Settings: attachment,
  };
  if (input.guestMountPath !== undefined) {
    const settings: Hcs.MappedVirtualDisk = {
      ContainerPath: checkGuestPath('guestMountPath', input.guestMountPath),
      Lun: lun,
    };
    request.GuestRequest = { ResourceType: 'MappedVirtualDisk', RequestType: 'Add', Settings: settings };
  }
  return request;
}

/** Asks the guest agent (GCS) to combine layers into a container root (WCOW: a wcifs filter). */
export function combineLayersRequest(input: {
  containerRootPath: string;
  /** Layers as the guest sees them (e.g. VSMB share paths), top first, base last. */
  layers: LayerInput[];
}): ModifySettingRequestDocument<never> {
  checkObject('options', input);
  const settings: Hcs.CombinedLayers = {
    ContainerRootPath: checkGuestPath('containerRootPath', input.containerRootPath),
    Layers: checkLayers('layers', input.layers, {}, { guestPaths: true }),
  };
  const guest: GuestModifySettingRequestDocument<Hcs.CombinedLayers> = {
    ResourceType: 'CombinedLayers',
    RequestType: 'Add',
    Settings: settings,
  };
  // The request has no host-side ResourcePath: only the guest part.
  return { GuestRequest: guest };
}
