/**
 * A standalone VM of the kind Windows Sandbox runs (HCS-NOTES §5c): UEFI boots
 * `bootmgfw.efi` from a read-only VSMB share (`os`) of a prepared base image, the
 * guest writes to a scratch VHDX on SCSI, HCS talks to the in-guest agent through
 * `GuestConnection`, and the display is an enhanced-mode (RDP) named pipe. The
 * reference is the document the Windows Sandbox service sends, dumped in
 * MouriNaruto/MouriDocs `docs/4/ReadMe.md`.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type {
  ComputeSystemDocument,
  CrashDumpType,
  LaunchType,
  MemoryBackingType,
  VirtualMachineExt,
} from '../extensions.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkArray,
  checkBoolean,
  checkEnum,
  checkHost,
  checkHostPath,
  checkInteger,
  checkMemoryMB,
  checkObject,
  checkPipePath,
  checkProcessorCount,
  checkSddl,
  checkSid,
  checkText,
  type SystemDocumentOptions,
  systemEnvelope,
} from './common.js';
import {
  buildGpuConfiguration,
  type GpuInput,
  type ModifySettingRequestDocument,
  setGpuRequest,
} from './modify.js';
import {
  alignMemoryMB,
  buildNetworkAdapters,
  buildServiceTable,
  buildVsmbShares,
  type HvSocketServiceInput,
  MIN_VM_MEMORY_MB,
  type NetworkAdapterInput,
  VMBFS_BOOT,
  type VsmbShareInput,
} from './vm-common.js';

export interface SandboxVmMemoryInput {
  /** Pageable memory (`AllowOvercommit`). Default true, unless `backing` is given. */
  allowOvercommit?: boolean;
  /** Commit memory as the guest touches it. Default true; needs overcommit / virtual backing. */
  enableDeferredCommit?: boolean;
  /** Default: same as overcommit. */
  enableHotHint?: boolean;
  /** Default: same as overcommit. */
  enableColdHint?: boolean;
  /** Extension (Windows 11 22H2+): `Backing`. */
  backing?: MemoryBackingType;
  backingPageSize?: Hcs.MemoryBackingPageSize;
  faultClusterSizeShift?: number;
  directMapFaultClusterSizeShift?: number;
  /** Extension: `EnablePrivateCompressionStore`. */
  enablePrivateCompressionStore?: boolean;
  /** Extension: `SharedMemoryMB`. */
  sharedMemoryMB?: number;
  /** Extension: `SharedMemoryAccessSids`. */
  sharedMemoryAccessSids?: string[];
  /** Extension: `EnableEpf`. */
  enableEpf?: boolean;
}

export interface SandboxVmProcessorInput {
  /** 1..100000 (100000 = 100 %). */
  limit?: number;
  /** 0..10000. */
  weight?: number;
  /** Extension fields Windows Sandbox sends. */
  synchronizeHostFeatures?: boolean;
  enableSchedulerAssist?: boolean;
  defaultVpCpuPriority?: number;
  enableProcessorIdling?: boolean;
}

export interface SandboxVmOptions extends SystemDocumentOptions {
  /** Host folder holding the prepared OS image (e.g. `...\BaseLayer\Files` or `...\UtilityVM\Files`), shared as `os`. */
  baseImagePath: string;
  /** Host path of the per-VM scratch VHDX, attached at SCSI `<scsiControllerName>`:0. */
  scratchVhdxPath: string;
  /** Default `"primary"` (what Windows Sandbox uses). */
  scsiControllerName?: string;
  scratchCachingMode?: Hcs.CachingMode;
  scratchSupportCompressedVolumes?: boolean;
  /** Initial memory in MB. Default 2048, minimum 1024, aligned up to an even number. */
  memoryMB?: number;
  memory?: SandboxVmMemoryInput;
  /** Virtual processors. Default 2 (1 on a single-processor host). */
  processorCount?: number;
  processor?: SandboxVmProcessorInput;
  /** Option flags of the `os` share. Default: Windows Sandbox's set. */
  osShareOptions?: Hcs.VirtualSmbShareOptions;
  /** `VirtualSmb.DirectFileMappingInMB`. Default 4096 (as Windows Sandbox). */
  directFileMappingMB?: number;
  /** More VSMB shares (host folders for the guest). */
  vsmbShares?: VsmbShareInput[];
  hvSocket?: {
    /** Default `D:P(A;;FA;;;SY)(A;;FA;;;BA)`. */
    defaultBindSecurityDescriptor?: string;
    defaultConnectSecurityDescriptor?: string;
    /** Service GUID → per-service security descriptors. */
    services?: Record<string, HvSocketServiceInput>;
  };
  /** Enhanced-mode (RDP) display served on a host named pipe. */
  enhancedModeVideo?: { namedPipe: string; accessSids?: string[] };
  /** Guest crash dumps. */
  crashDump?: { dumpFileName: string; maxDumpSizeBytes?: number; dumpType?: CrashDumpType };
  networkAdapters?: NetworkAdapterInput[];
  /** `GuestConnection`; `false` leaves it out. Default `{}`. */
  guestConnection?: false | { useVsock?: boolean; useConnectedSuspend?: boolean; useHostTimeZone?: boolean };
  guestState?: { guestStateFilePath?: string; runtimeStateFilePath?: string; forceTransientState?: boolean };
  /** Clone from a system saved with `SaveType: "AsTemplate"`, or restore a saved-state file. */
  restore?: { templateSystemId: string } | { saveStateFilePath: string };
  /** GPU-PV: applied after start (see `afterStart`). */
  gpu?: GpuInput;
  /** Expose the host battery. Default false. */
  battery?: boolean;
  /** Stop instead of rebooting when the guest resets. Default true. */
  stopOnReset?: boolean;
  /** Extension: run the VM worker in a silo built on this image. */
  runInSilo?: { siloBaseOsPath: string; notifySiloJobCreated?: boolean };
  /** Extension: `LaunchOptions.Type`. */
  launchType?: LaunchType;
}

export interface SandboxVmDocuments {
  /** `HcsCreateComputeSystem(id, document)`. */
  document: ComputeSystemDocument;
  /** Requests to send with `HcsModifyComputeSystem` after `HcsStartComputeSystem` (GPU-PV). */
  afterStart: ModifySettingRequestDocument[];
}

/** The `os` share options Windows Sandbox uses ([MD4]). */
export const SANDBOX_OS_SHARE_OPTIONS: Readonly<Hcs.VirtualSmbShareOptions> = Object.freeze({
  ReadOnly: true,
  TakeBackupPrivilege: true,
  NoLocks: true,
  ReparseBaseLayer: true,
  PseudoOplocks: true,
  PseudoDirnotify: true,
  SupportCloudFiles: true,
});

const SHARE_OPTION_KEYS = [
  'ReadOnly',
  'ShareRead',
  'CacheIo',
  'NoOplocks',
  'TakeBackupPrivilege',
  'UseShareRootIdentity',
  'NoDirectmap',
  'NoLocks',
  'NoDirnotify',
  'VmSharedMemory',
  'RestrictFileAccess',
  'ForceLevelIIOplocks',
  'ReparseBaseLayer',
  'PseudoOplocks',
  'NonCacheIo',
  'PseudoDirnotify',
  'SingleFileMapping',
  'SupportCloudFiles',
  'FilterEncryptionAttributes',
] as const;

function optionalBool(field: string, value: unknown): boolean | undefined {
  return value === undefined ? undefined : checkBoolean(field, value);
}

function buildMemory(o: SandboxVmOptions, host: ReturnType<typeof checkHost>) {
  const m = (o.memory ?? {}) as SandboxVmMemoryInput;
  if (o.memory !== undefined) checkObject('memory', o.memory);
  const size = alignMemoryMB(
    o.memoryMB === undefined ? 2048 : checkMemoryMB('memoryMB', o.memoryMB, MIN_VM_MEMORY_MB, host),
  );
  const backing =
    m.backing === undefined
      ? undefined
      : checkEnum('memory.backing', m.backing, ['Physical', 'Virtual', 'Hybrid']);
  let overcommit = optionalBool('memory.allowOvercommit', m.allowOvercommit);
  if (overcommit === true && backing === 'Physical') {
    throw new InvalidArgumentError(
      'memory.allowOvercommit',
      'false or absent when backing is "Physical"',
      true,
    );
  }
  if (overcommit === undefined && backing === undefined) overcommit = true;
  const virtual = overcommit === true || backing === 'Virtual' || backing === 'Hybrid';
  const deferred = optionalBool('memory.enableDeferredCommit', m.enableDeferredCommit) ?? virtual;
  if (deferred && !virtual) {
    throw new InvalidArgumentError(
      'memory.enableDeferredCommit',
      'false when memory is physically backed (deferred commit needs overcommit)',
      deferred,
    );
  }
  const mem: NonNullable<NonNullable<VirtualMachineExt['ComputeTopology']>['Memory']> = { SizeInMB: size };
  if (overcommit !== undefined) mem.AllowOvercommit = overcommit;
  if (backing !== undefined) mem.Backing = backing;
  if (m.backingPageSize !== undefined) {
    mem.BackingPageSize = checkEnum('memory.backingPageSize', m.backingPageSize, ['Small', 'Large']);
  }
  if (m.faultClusterSizeShift !== undefined) {
    mem.FaultClusterSizeShift = checkInteger('memory.faultClusterSizeShift', m.faultClusterSizeShift, 0, 31);
  }
  if (m.directMapFaultClusterSizeShift !== undefined) {
    mem.DirectMapFaultClusterSizeShift = checkInteger(
      'memory.directMapFaultClusterSizeShift',
      m.directMapFaultClusterSizeShift,
      0,
      31,
    );
  }
  const priv = optionalBool('memory.enablePrivateCompressionStore', m.enablePrivateCompressionStore);
  if (priv !== undefined) mem.EnablePrivateCompressionStore = priv;
  mem.EnableHotHint = optionalBool('memory.enableHotHint', m.enableHotHint) ?? virtual;
  mem.EnableColdHint = optionalBool('memory.enableColdHint', m.enableColdHint) ?? virtual;
  if (m.sharedMemoryMB !== undefined) {
    mem.SharedMemoryMB = checkInteger('memory.sharedMemoryMB', m.sharedMemoryMB, 1, size * 64);
  }
  if (m.sharedMemoryAccessSids !== undefined) {
    checkArray('memory.sharedMemoryAccessSids', m.sharedMemoryAccessSids);
    mem.SharedMemoryAccessSids = m.sharedMemoryAccessSids.map((s, i) =>
      checkSid(`memory.sharedMemoryAccessSids[${i}]`, s),
    );
  }
  const epf = optionalBool('memory.enableEpf', m.enableEpf);
  if (epf !== undefined) mem.EnableEpf = epf;
  mem.EnableDeferredCommit = deferred;
  return mem;
}

function buildProcessor(o: SandboxVmOptions, host: ReturnType<typeof checkHost>) {
  const defaultCpus = host.logicalProcessorCount === 1 ? 1 : 2;
  const count =
    o.processorCount === undefined
      ? defaultCpus
      : checkProcessorCount('processorCount', o.processorCount, host);
  const proc: NonNullable<NonNullable<VirtualMachineExt['ComputeTopology']>['Processor']> = { Count: count };
  if (o.processor === undefined) return proc;
  checkObject('processor', o.processor);
  const p = o.processor;
  if (p.limit !== undefined) proc.Limit = checkInteger('processor.limit', p.limit, 1, 100000);
  if (p.weight !== undefined) proc.Weight = checkInteger('processor.weight', p.weight, 0, 10000);
  const sync = optionalBool('processor.synchronizeHostFeatures', p.synchronizeHostFeatures);
  if (sync !== undefined) proc.SynchronizeHostFeatures = sync;
  const assist = optionalBool('processor.enableSchedulerAssist', p.enableSchedulerAssist);
  if (assist !== undefined) proc.EnableSchedulerAssist = assist;
  if (p.defaultVpCpuPriority !== undefined) {
    proc.DefaultVpCpuPriority = checkInteger('processor.defaultVpCpuPriority', p.defaultVpCpuPriority, 0, 31);
  }
  const idling = optionalBool('processor.enableProcessorIdling', p.enableProcessorIdling);
  if (idling !== undefined) proc.EnableProcessorIdling = idling;
  return proc;
}

/** Builds a Windows-Sandbox-style VM document and the requests to send after start. */
export function buildSandboxVm(options: SandboxVmOptions): SandboxVmDocuments {
  checkObject('options', options);
  const o = options;
  const host = checkHost(o.host);
  const envelope = systemEnvelope(o);
  const baseImage = checkHostPath('baseImagePath', o.baseImagePath, { host, mustExist: true });
  const scratch = checkHostPath('scratchVhdxPath', o.scratchVhdxPath, { host, mustExist: true });
  const controller =
    o.scsiControllerName === undefined
      ? 'primary'
      : checkText('scsiControllerName', o.scsiControllerName, { max: 128 });
  if (controller.includes('/')) {
    throw new InvalidArgumentError('scsiControllerName', 'a controller key without "/"', controller);
  }

  const attachment: Hcs.Attachment = { Type: 'VirtualDisk', Path: scratch };
  if (o.scratchCachingMode !== undefined) {
    attachment.CachingMode = checkEnum('scratchCachingMode', o.scratchCachingMode, [
      'Uncached',
      'Cached',
      'ReadOnlyCached',
    ]);
  }
  if (o.scratchSupportCompressedVolumes !== undefined) {
    attachment.SupportCompressedVolumes = checkBoolean(
      'scratchSupportCompressedVolumes',
      o.scratchSupportCompressedVolumes,
    );
  }

  let osOptions: Hcs.VirtualSmbShareOptions = { ...SANDBOX_OS_SHARE_OPTIONS };
  if (o.osShareOptions !== undefined) {
    checkObject('osShareOptions', o.osShareOptions);
    osOptions = {};
    for (const [k, v] of Object.entries(o.osShareOptions)) {
      const key = checkEnum('osShareOptions.<key>', k, SHARE_OPTION_KEYS);
      osOptions[key] = checkBoolean(`osShareOptions.${key}`, v);
    }
  }
  const shares: Hcs.VirtualSmbShare[] = [{ Name: 'os', Path: baseImage, Options: osOptions }];
  if (o.vsmbShares !== undefined)
    shares.push(...buildVsmbShares('vsmbShares', o.vsmbShares, host, new Set(['os'])));
  const directMap =
    o.directFileMappingMB === undefined
      ? 4096
      : checkInteger('directFileMappingMB', o.directFileMappingMB, 0, Number.MAX_SAFE_INTEGER);

  const hv = o.hvSocket ?? {};
  if (o.hvSocket !== undefined) checkObject('hvSocket', o.hvSocket);
  const hvConfig: Hcs.HvSocketSystemConfig = {
    DefaultBindSecurityDescriptor:
      hv.defaultBindSecurityDescriptor === undefined
        ? 'D:P(A;;FA;;;SY)(A;;FA;;;BA)'
        : checkSddl('hvSocket.defaultBindSecurityDescriptor', hv.defaultBindSecurityDescriptor),
  };
  if (hv.defaultConnectSecurityDescriptor !== undefined) {
    hvConfig.DefaultConnectSecurityDescriptor = checkSddl(
      'hvSocket.defaultConnectSecurityDescriptor',
      hv.defaultConnectSecurityDescriptor,
    );
  }
  hvConfig.ServiceTable =
    hv.services === undefined ? {} : buildServiceTable('hvSocket.services', hv.services);

  const devices: NonNullable<VirtualMachineExt['Devices']> = {
    Scsi: { [controller]: { Attachments: { '0': attachment } } },
    HvSocket: { HvSocketConfig: hvConfig },
  };
  if (o.enhancedModeVideo !== undefined) {
    checkObject('enhancedModeVideo', o.enhancedModeVideo);
    const rdp: Hcs.RdpConnectionOptions = {};
    if (o.enhancedModeVideo.accessSids !== undefined) {
      checkArray('enhancedModeVideo.accessSids', o.enhancedModeVideo.accessSids);
      rdp.AccessSids = o.enhancedModeVideo.accessSids.map((s, i) =>
        checkSid(`enhancedModeVideo.accessSids[${i}]`, s),
      );
    }
    rdp.NamedPipe = checkPipePath('enhancedModeVideo.namedPipe', o.enhancedModeVideo.namedPipe);
    devices.EnhancedModeVideo = { ConnectionOptions: rdp };
  }
  if (o.crashDump !== undefined) {
    checkObject('crashDump', o.crashDump);
    const c = o.crashDump;
    const settings: NonNullable<NonNullable<typeof devices.GuestCrashReporting>['WindowsCrashSettings']> = {
      DumpFileName: checkHostPath('crashDump.dumpFileName', c.dumpFileName),
    };
    if (c.maxDumpSizeBytes !== undefined) {
      settings.MaxDumpSize = checkInteger(
        'crashDump.maxDumpSizeBytes',
        c.maxDumpSizeBytes,
        1,
        Number.MAX_SAFE_INTEGER,
      );
    }
    if (c.dumpType !== undefined)
      settings.DumpType = checkEnum('crashDump.dumpType', c.dumpType, ['Full', 'Summary']);
    devices.GuestCrashReporting = { WindowsCrashSettings: settings };
  }
  if (o.networkAdapters !== undefined)
    devices.NetworkAdapters = buildNetworkAdapters('networkAdapters', o.networkAdapters);
  devices.VirtualSmb = { Shares: shares, DirectFileMappingInMB: directMap };
  if (o.battery !== undefined && checkBoolean('battery', o.battery)) devices.Battery = {};

  const vm: VirtualMachineExt = {
    StopOnReset: o.stopOnReset === undefined ? true : checkBoolean('stopOnReset', o.stopOnReset),
    Chipset: { Uefi: { BootThis: { ...VMBFS_BOOT } } },
    ComputeTopology: { Memory: buildMemory(o, host), Processor: buildProcessor(o, host) },
    Devices: devices,
  };

  if (o.guestState !== undefined) {
    checkObject('guestState', o.guestState);
    const g = o.guestState;
    const gs: Hcs.GuestState = {};
    if (g.guestStateFilePath !== undefined) {
      gs.GuestStateFilePath = checkHostPath('guestState.guestStateFilePath', g.guestStateFilePath, {
        host,
        mustExist: true,
      });
    }
    if (g.runtimeStateFilePath !== undefined) {
      gs.RuntimeStateFilePath = checkHostPath('guestState.runtimeStateFilePath', g.runtimeStateFilePath, {
        host,
        mustExist: true,
      });
    }
    if (g.forceTransientState !== undefined) {
      gs.ForceTransientState = checkBoolean('guestState.forceTransientState', g.forceTransientState);
    }
    vm.GuestState = gs;
  }
  if (o.restore !== undefined) {
    checkObject('restore', o.restore);
    const r = o.restore as { templateSystemId?: unknown; saveStateFilePath?: unknown };
    if ((r.templateSystemId === undefined) === (r.saveStateFilePath === undefined)) {
      throw new InvalidArgumentError(
        'restore',
        'exactly one of templateSystemId or saveStateFilePath',
        o.restore,
      );
    }
    vm.RestoreState =
      r.templateSystemId !== undefined
        ? { TemplateSystemId: checkText('restore.templateSystemId', r.templateSystemId, { max: 256 }) }
        : {
            SaveStateFilePath: checkHostPath('restore.saveStateFilePath', r.saveStateFilePath, {
              host,
              mustExist: true,
            }),
          };
  }
  if (o.runInSilo !== undefined) {
    checkObject('runInSilo', o.runInSilo);
    vm.RunInSilo = {
      SiloBaseOsPath: checkHostPath('runInSilo.siloBaseOsPath', o.runInSilo.siloBaseOsPath, {
        host,
        mustExist: true,
      }),
    };
    if (o.runInSilo.notifySiloJobCreated !== undefined) {
      vm.RunInSilo.NotifySiloJobCreated = checkBoolean(
        'runInSilo.notifySiloJobCreated',
        o.runInSilo.notifySiloJobCreated,
      );
    }
  }
  if (o.launchType !== undefined) {
    vm.LaunchOptions = { Type: checkEnum('launchType', o.launchType, ['Default', 'None', 'AppContainer']) };
  }
  if (o.guestConnection !== false) {
    const gc: Hcs.GuestConnection = {};
    if (o.guestConnection !== undefined) {
      checkObject('guestConnection', o.guestConnection);
      const g = o.guestConnection;
      if (g.useVsock !== undefined) gc.UseVsock = checkBoolean('guestConnection.useVsock', g.useVsock);
      if (g.useConnectedSuspend !== undefined) {
        gc.UseConnectedSuspend = checkBoolean('guestConnection.useConnectedSuspend', g.useConnectedSuspend);
      }
      if (g.useHostTimeZone !== undefined) {
        gc.UseHostTimeZone = checkBoolean('guestConnection.useHostTimeZone', g.useHostTimeZone);
      }
    }
    vm.GuestConnection = gc;
  }

  const afterStart: ModifySettingRequestDocument[] = [];
  if (o.gpu !== undefined) {
    buildGpuConfiguration('gpu', o.gpu);
    afterStart.push(setGpuRequest(o.gpu));
  }

  return {
    document: {
      Owner: envelope.Owner,
      SchemaVersion: envelope.SchemaVersion,
      VirtualMachine: vm,
      ShouldTerminateOnLastHandleClosed: envelope.ShouldTerminateOnLastHandleClosed,
    },
    afterStart,
  };
}
