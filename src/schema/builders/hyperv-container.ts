/**
 * Hyper-V isolated container ("Xenon"): a utility VM booted from the base
 * image's `UtilityVM\Files` over VSMB, the requests that prepare the container's
 * storage inside it, and the hosted container document (HCS-NOTES §5b). The shape
 * follows what hcsshim builds in `internal/uvm/create_wcow.go`
 * (`prepareCommonConfigDoc` + `prepareConfigDoc`) and `internal/hcsoci` (the
 * `HostingSystemId` path of `uvm.CreateContainer`).
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type { ComputeSystemDocument } from '../extensions.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkBoolean,
  checkGuestPath,
  checkHost,
  checkHostName,
  checkHostPath,
  checkInteger,
  checkMemoryMB,
  checkObject,
  checkProcessorCount,
  checkText,
  type HostFacts,
  isGuid,
  type SystemDocumentOptions,
  systemEnvelope,
  vsmbGuestPath,
} from './common.js';
import { addScsiDiskRequest, combineLayersRequest, type ModifySettingRequestDocument } from './modify.js';
import {
  buildContainerNetworking,
  buildContainerProcessor,
  type ContainerNetworkingInput,
  type ContainerProcessorInput,
  checkContainerMemory,
  checkLayers,
  checkMappedDirectories,
  type LayerInput,
  type MappedDirectoryInput,
} from './process-container.js';
import {
  alignMemoryMB,
  buildServiceTable,
  type HvSocketServiceInput,
  MIN_UVM_MEMORY_MB,
  SDDL_SYSTEM_AND_ADMINS,
  UVM_SCSI_CONTROLLER,
  VMBFS_BOOT,
  vsmbOptions,
} from './vm-common.js';

export interface UtilityVmOptions {
  /** Default 1024 (hcsshim's WCOW default); minimum 512; aligned up to an even number. */
  memoryMB?: number;
  /** Default 2, or 1 when the host has a single logical processor. */
  processorCount?: number;
  /** Pageable (virtual) memory backing. Default true. */
  allowOvercommit?: boolean;
  /** Default false. Needs `allowOvercommit`. */
  enableDeferredCommit?: boolean;
  /** `VirtualSmb.DirectFileMappingInMB`. Default 1024. */
  directFileMappingMB?: number;
  /**
   * Sets `HKLM\System\CurrentControlSet\Services\gns\EnableCompartmentNamespace=1`
   * in the UVM, as hcsshim does unless told otherwise. Default true.
   */
  enableCompartmentNamespace?: boolean;
  /** Extra hvsocket services (service GUID → security descriptors). */
  hvSocketServices?: Record<string, HvSocketServiceInput>;
}

export interface HypervContainerOptions extends SystemDocumentOptions {
  /** The compute-system id the utility VM is created with; the container's `HostingSystemId`. */
  uvmId: string;
  /** Host path of the base layer's `UtilityVM\Files` (shared into the UVM as `os`). */
  utilityVmFilesPath: string;
  /** Host path of the UVM's scratch VHDX (a copy of `UtilityVM\SystemTemplate.vhdx`), SCSI 0:0. */
  uvmScratchVhdxPath: string;
  uvm?: UtilityVmOptions;
  /** Read-only layers on the host, top first, base OS layer last; each becomes a VSMB share. */
  layers: LayerInput[];
  /** Host path of the container's scratch VHDX, hot-added at SCSI 0:1. */
  containerScratchVhdxPath: string;
  /**
   * The SCSI controller's key, in the UVM document and in the scratch disk's
   * hot-add. Default hcsshim's GUID key (`UVM_SCSI_CONTROLLER`); `"0"` is the
   * index key hcsshim used with HCS's internal guest connection until 2021
   * (commit cd895b4d1), the fallback for hosts that refuse the GUID key.
   */
  scsiController?: string;
  /** Where the guest mounts the container scratch. Default `C:\c\container`. */
  guestRootPath?: string;
  hostName?: string;
  /** Host folders, each shared into the UVM over VSMB and mapped into the container. */
  mappedDirectories?: MappedDirectoryInput[];
  networking?: ContainerNetworkingInput;
  processor?: ContainerProcessorInput;
  memoryMB?: number;
}

export interface HypervContainerDocuments {
  /** Create and start this first (`HcsCreateComputeSystem(uvmId, uvm)`). */
  uvm: ComputeSystemDocument;
  /** Then send these to the running UVM with `HcsModifyComputeSystem`, in order. */
  prepareRequests: ModifySettingRequestDocument[];
  /** Finally create the container (`HcsCreateComputeSystem(containerId, container)`). */
  container: ComputeSystemDocument;
}

const DEFAULT_GUEST_ROOT = 'C:\\c\\container';

export function buildUtilityVm(
  field: string,
  value: unknown,
  env: {
    envelope: ReturnType<typeof systemEnvelope>;
    host: HostFacts;
    filesPath: string;
    scratchPath: string;
    scsiController?: string;
  },
): { document: ComputeSystemDocument; processorCount: number } {
  const u = (value ?? {}) as UtilityVmOptions;
  if (value !== undefined) checkObject(field, value);
  const host = env.host;
  const defaultCpus = host.logicalProcessorCount === 1 ? 1 : 2;
  const processorCount =
    u.processorCount === undefined
      ? defaultCpus
      : checkProcessorCount(`${field}.processorCount`, u.processorCount, host);
  const memoryMB = alignMemoryMB(
    u.memoryMB === undefined ? 1024 : checkMemoryMB(`${field}.memoryMB`, u.memoryMB, MIN_UVM_MEMORY_MB, host),
  );
  const overcommit =
    u.allowOvercommit === undefined ? true : checkBoolean(`${field}.allowOvercommit`, u.allowOvercommit);
  const deferred =
    u.enableDeferredCommit === undefined
      ? false
      : checkBoolean(`${field}.enableDeferredCommit`, u.enableDeferredCommit);
  if (deferred && !overcommit) {
    throw new InvalidArgumentError(
      `${field}.enableDeferredCommit`,
      'false when allowOvercommit is false (deferred commit needs virtual memory backing)',
      deferred,
    );
  }
  const directMap =
    u.directFileMappingMB === undefined
      ? 1024
      : checkInteger(`${field}.directFileMappingMB`, u.directFileMappingMB, 0, Number.MAX_SAFE_INTEGER);
  const compartments =
    u.enableCompartmentNamespace === undefined
      ? true
      : checkBoolean(`${field}.enableCompartmentNamespace`, u.enableCompartmentNamespace);
  const services =
    u.hvSocketServices === undefined
      ? {}
      : buildServiceTable(`${field}.hvSocketServices`, u.hvSocketServices);

  const vm: NonNullable<ComputeSystemDocument['VirtualMachine']> = {
    StopOnReset: true,
    Chipset: { Uefi: { BootThis: { ...VMBFS_BOOT } } },
    ComputeTopology: {
      Memory: {
        SizeInMB: memoryMB,
        AllowOvercommit: overcommit,
        EnableHotHint: overcommit,
        EnableDeferredCommit: deferred,
      },
      Processor: { Count: processorCount },
    },
    Devices: {
      Scsi: {
        [env.scsiController ?? UVM_SCSI_CONTROLLER]: {
          Attachments: { '0': { Type: 'VirtualDisk', Path: env.scratchPath } },
        },
      },
      HvSocket: {
        HvSocketConfig: { DefaultBindSecurityDescriptor: SDDL_SYSTEM_AND_ADMINS, ServiceTable: services },
      },
      VirtualSmb: {
        Shares: [
          { Name: 'os', Path: env.filesPath, Options: { ...vsmbOptions(true), TakeBackupPrivilege: true } },
        ],
        DirectFileMappingInMB: directMap,
      },
    },
    GuestConnection: {},
  };
  if (compartments) {
    vm.RegistryChanges = {
      AddValues: [
        {
          Key: { Hive: 'System', Name: 'CurrentControlSet\\Services\\gns' },
          Name: 'EnableCompartmentNamespace',
          Type: 'DWord',
          DWordValue: 1,
        },
      ],
    };
  }
  return {
    document: {
      Owner: env.envelope.Owner,
      SchemaVersion: env.envelope.SchemaVersion,
      ShouldTerminateOnLastHandleClosed: env.envelope.ShouldTerminateOnLastHandleClosed,
      VirtualMachine: vm,
    },
    processorCount,
  };
}

/** A controller key hcsshim has used: a GUID (today) or an index (`"0"`, before 2021). */
function checkScsiController(value: unknown): string {
  if (typeof value === 'string' && (/^[0-3]$/.test(value) || isGuid(value))) return value;
  throw new InvalidArgumentError('scsiController', 'a controller GUID or an index "0" to "3"', value);
}

/** Builds the utility VM, the storage-preparation requests and the hosted container document. */
export function buildHypervContainer(options: HypervContainerOptions): HypervContainerDocuments {
  checkObject('options', options);
  const host = checkHost(options.host);
  const envelope = systemEnvelope(options);
  const uvmId = checkText('uvmId', options.uvmId, { max: 256 });
  const filesPath = checkHostPath('utilityVmFilesPath', options.utilityVmFilesPath, {
    host,
    mustExist: true,
  });
  const scratchPath = checkHostPath('uvmScratchVhdxPath', options.uvmScratchVhdxPath, {
    host,
    mustExist: true,
  });
  const scsiController =
    options.scsiController === undefined ? UVM_SCSI_CONTROLLER : checkScsiController(options.scsiController);
  const { document: uvm, processorCount } = buildUtilityVm('uvm', options.uvm, {
    envelope,
    host,
    filesPath,
    scratchPath,
    scsiController,
  });

  const hostLayers = checkLayers('layers', options.layers, host);
  const containerScratch = checkHostPath('containerScratchVhdxPath', options.containerScratchVhdxPath, {
    host,
    mustExist: true,
  });
  const guestRoot =
    options.guestRootPath === undefined
      ? DEFAULT_GUEST_ROOT
      : checkGuestPath('guestRootPath', options.guestRootPath);
  const mapped =
    options.mappedDirectories === undefined
      ? []
      : checkMappedDirectories('mappedDirectories', options.mappedDirectories, host);

  // VSMB shares: one per layer (read-only), then one per mapped folder, named s1, s2, ...
  const prepareRequests: ModifySettingRequestDocument[] = [];
  let counter = 0;
  const addShare = (path: string, readOnly: boolean): string => {
    counter += 1;
    const name = `s${counter}`;
    const opts = readOnly ? { ...vsmbOptions(true), TakeBackupPrivilege: true } : {};
    prepareRequests.push({
      ResourcePath: 'VirtualMachine/Devices/VirtualSmb/Shares',
      RequestType: 'Add',
      Settings: { Name: name, Path: path, Options: opts } satisfies Hcs.VirtualSmbShare,
    });
    return vsmbGuestPath(name);
  };
  const guestLayers: Hcs.Layer[] = hostLayers.map((l) => ({
    Id: l.Id as string,
    Path: addShare(l.Path as string, true),
  }));
  const guestMapped: Hcs.MappedDirectory[] = mapped.map((m) => ({
    HostPath: addShare(m.hostPath, m.readOnly),
    ContainerPath: m.containerPath,
    ReadOnly: m.readOnly,
  }));
  prepareRequests.push(
    addScsiDiskRequest({
      controller: scsiController,
      lun: 1,
      path: containerScratch,
      guestMountPath: guestRoot,
    }),
  );
  prepareRequests.push(
    combineLayersRequest({
      containerRootPath: guestRoot,
      layers: guestLayers.map((l) => ({ id: l.Id as string, path: l.Path as string })),
    }),
  );

  const container: Hcs.Container = {};
  if (options.hostName !== undefined)
    container.GuestOs = { HostName: checkHostName('hostName', options.hostName) };
  container.Storage = { Layers: guestLayers, Path: guestRoot };
  if (guestMapped.length > 0) container.MappedDirectories = guestMapped;
  if (options.networking !== undefined) {
    container.Networking = buildContainerNetworking('networking', options.networking);
  }
  if (options.processor !== undefined) {
    // Inside the UVM the ceiling is the UVM's processor count.
    container.Processor = buildContainerProcessor('processor', options.processor, {
      logicalProcessorCount: processorCount,
    });
  }
  if (options.memoryMB !== undefined) {
    const mem = checkContainerMemory('memoryMB', options.memoryMB, host);
    const uvmMem = uvm.VirtualMachine?.ComputeTopology?.Memory?.SizeInMB ?? Number.MAX_SAFE_INTEGER;
    if ((mem.SizeInMB as number) > uvmMem) {
      throw new InvalidArgumentError(
        'memoryMB',
        `at most the utility VM's memory (${uvmMem} MB)`,
        options.memoryMB,
      );
    }
    container.Memory = mem;
  }

  return {
    uvm,
    prepareRequests,
    container: {
      Owner: envelope.Owner,
      SchemaVersion: envelope.SchemaVersion,
      ShouldTerminateOnLastHandleClosed: envelope.ShouldTerminateOnLastHandleClosed,
      HostingSystemId: uvmId,
      HostedSystem: { SchemaVersion: envelope.SchemaVersion, Container: container },
    },
  };
}
