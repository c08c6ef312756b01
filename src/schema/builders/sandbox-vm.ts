/**
 * A standalone VM of the kind Windows Sandbox runs (HCS-NOTES §5c): UEFI boots
 * `bootmgfw.efi` from a read-only VSMB share (`os`) of a prepared base image, the
 * guest writes to a scratch VHDX on SCSI, HCS talks to the in-guest agent through
 * `GuestConnection`, and the display is an enhanced-mode (RDP) named pipe. The
 * reference is the document the Windows Sandbox service sends, dumped in
 * MouriNaruto/MouriDocs `docs/4/ReadMe.md`.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type { ComputeSystemDocument, CrashDumpType, LaunchType, VirtualMachineExt } from '../extensions.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkBoolean,
  checkEnum,
  checkHost,
  checkHostPath,
  checkInteger,
  checkObject,
  checkSddl,
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
  buildMemory,
  buildProcessor,
  type SandboxVmMemoryInput,
  type SandboxVmProcessorInput,
} from './sandbox-vm-topology.js';
import {
  buildNetworkAdapters,
  buildRdpConnectionOptions,
  buildServiceTable,
  buildVsmbShares,
  type HvSocketServiceInput,
  type NetworkAdapterInput,
  type RdpConnectionInput,
  VMBFS_BOOT,
  type VsmbShareInput,
} from './vm-common.js';

// Re-exported so `export *` in schema/index.ts still carries them.
export type { SandboxVmMemoryInput, SandboxVmProcessorInput } from './sandbox-vm-topology.js';

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
  enhancedModeVideo?: RdpConnectionInput;
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
    devices.EnhancedModeVideo = {
      ConnectionOptions: buildRdpConnectionOptions('enhancedModeVideo', o.enhancedModeVideo),
    };
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
