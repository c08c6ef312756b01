/**
 * A Windows desktop VM that boots its own disk (the "full VHDX" route of
 * shared/docs/VM-SANDBOXES.md §1c/d): UEFI finds the boot loader on the OS
 * disk itself, Secure Boot checks it against the Microsoft Windows template,
 * the guest keeps its UEFI variables and TPM state in a guest state file, and
 * the host reaches the guest only through hvsocket services listed in the
 * service table (the guest agent) and the video console. Beside it,
 * sandbox-vm.ts keeps the VmbFs (Windows Sandbox BaseLayer) shape for the
 * later experiment.
 *
 * What the peers measured, and why each field is as it is:
 * - no `Chipset.Uefi.BootThis`: pinning a boot device makes the worker log
 *   event 18603 and boot nothing (discobox-ai/vm `pkg/machine/hcs/config_windows.go`);
 * - `ApplySecureBootTemplate: "Apply"` with the Microsoft Windows template, or
 *   the certificates are never loaded and every boot source fails (18604, same file;
 *   jamesstringer90/appsandbox `src/backend_win/hcs_vm.c` does the same);
 * - `StopOnReset: false`: Windows Setup reboots between its passes, and `true`
 *   turns the first reboot into a power-off (18515, disco-vm);
 * - `VideoMonitor` always: "vmwp.exe crashes (0xC0000005) without it"
 *   (appsandbox `hcs_vm.c`); `Keyboard` and `Mouse` are where the console
 *   delivers input (disco-vm);
 * - `VideoMonitor.ConnectionOptions` always: the worker serves the console on
 *   the pipe it names, to the SIDs it lists, and nobody has published where a
 *   VideoMonitor without it is served (NanaBox and disco-vm both name theirs,
 *   hcsshim's empty one is never opened: schema/video-pipe.ts);
 * - `GuestState` files made empty by HCS (appsandbox);
 * - no `GuestConnection`: a plain Windows install has no HCS guest service
 *   (VM-SANDBOXES.md §2), exec goes through our own agent over hvsocket.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type { ComputeSystemDocument, VirtualMachineExt } from '../extensions.js';
import type * as Hcs from '../generated/hcs.js';
import { AGENT_SERVICE_ID } from './agent-service-id.js';
import {
  checkHost,
  checkHostPath,
  checkInteger,
  checkMemoryMB,
  checkObject,
  type SystemDocumentOptions,
  systemEnvelope,
} from './common.js';
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
  type HvSocketServiceInput,
  type NetworkAdapterInput,
  type RdpConnectionInput,
  SDDL_SYSTEM_AND_ADMINS,
} from './vm-common.js';

/** Generated from agent/service-id.h, the agent's own definition (scripts/gen-agent-service-id.mjs). */
export { AGENT_SERVICE_ID };

/** The Microsoft Windows Secure Boot template, which a stock Windows boot loader validates against. */
export const MICROSOFT_WINDOWS_SECURE_BOOT_TEMPLATE = '1734c6e8-3154-4dda-ba5f-a874cc483422';

/** The SCSI controller key of the OS disk (disco-vm uses "0" too). */
export const OS_DISK_CONTROLLER = '0';

/** Windows Sandbox's minimum memory for its desktop VM, in MB. */
export const MIN_DESKTOP_VM_MEMORY_MB = 2048;
/** Default memory of a desktop VM (disco-vm's default), in MB. */
export const DEFAULT_DESKTOP_VM_MEMORY_MB = 4096;

/** The console resolution appsandbox boots Windows with (hcs_vm.c). */
const DEFAULT_RESOLUTION = { horizontal: 1024, vertical: 768 } as const;

export interface DiskBootVmOptions extends SystemDocumentOptions {
  /** The sandbox's OS disk: a differencing VHDX over the image's base, attached at SCSI 0:0. */
  osDiskPath: string;
  /** The guest state file (`.vmgs`), made with HcsCreateEmptyGuestStateFile and granted to the VM. */
  guestStateFilePath: string;
  /** The runtime state file (`.vmrs`), made with HcsCreateEmptyRuntimeStateFile and granted to the VM. */
  runtimeStateFilePath: string;
  /** Memory in MB. Default 4096, at least 2048 (Windows Sandbox's minimum), rounded up to even. */
  memoryMB?: number;
  /** Overcommit, backing and hints; default: pageable, deferred commit. */
  memory?: SandboxVmMemoryInput;
  /** Virtual processors. Default 2 (1 on a single-processor host). */
  processorCount?: number;
  /** Processor cap (`limit`, 1..100000 = 100 %) or `weight`. */
  processor?: SandboxVmProcessorInput;
  /**
   * hvsocket services the guest may bind, by service GUID. Default: the guest
   * agent ({@link AGENT_SERVICE_ID}) with bind and connect limited to SYSTEM and
   * Administrators and wildcard binds allowed.
   */
  hvSocketServices?: Record<string, HvSocketServiceInput>;
  /** Console resolution. Default 1024 x 768. */
  videoMonitor?: { horizontalResolution?: number; verticalResolution?: number };
  /**
   * Where the console (the video monitor's RDP "basic session") is served and
   * who may open it: `Devices.VideoMonitor.ConnectionOptions`. The VM driver
   * passes `videoMonitorPipePath(id)` and `videoMonitorAccessSids(user)`
   * (schema/video-pipe.ts), the name `view` opens. At least one SID.
   */
  videoConnection: RdpConnectionInput;
  networkAdapters?: NetworkAdapterInput[];
}

/** The default service table entry of the agent. */
export function agentServiceEntry(): HvSocketServiceInput {
  return {
    bindSecurityDescriptor: SDDL_SYSTEM_AND_ADMINS,
    connectSecurityDescriptor: SDDL_SYSTEM_AND_ADMINS,
    allowWildcardBinds: true,
  };
}

/** Builds the create document of a disk-booted Windows desktop VM. */
export function buildDiskBootVm(options: DiskBootVmOptions): ComputeSystemDocument {
  checkObject('options', options);
  const o = options;
  const host = checkHost(o.host);
  const envelope = systemEnvelope(o);
  const osDisk = checkHostPath('osDiskPath', o.osDiskPath, { host, mustExist: true });
  const guestState = checkHostPath('guestStateFilePath', o.guestStateFilePath, { host, mustExist: true });
  const runtimeState = checkHostPath('runtimeStateFilePath', o.runtimeStateFilePath, {
    host,
    mustExist: true,
  });
  const memoryMB =
    o.memoryMB === undefined
      ? DEFAULT_DESKTOP_VM_MEMORY_MB
      : checkMemoryMB('memoryMB', o.memoryMB, MIN_DESKTOP_VM_MEMORY_MB, host);

  const services = o.hvSocketServices ?? { [AGENT_SERVICE_ID]: agentServiceEntry() };
  const devices: NonNullable<VirtualMachineExt['Devices']> = {
    Scsi: { [OS_DISK_CONTROLLER]: { Attachments: { '0': { Type: 'VirtualDisk', Path: osDisk } } } },
    HvSocket: {
      HvSocketConfig: {
        DefaultBindSecurityDescriptor: SDDL_SYSTEM_AND_ADMINS,
        DefaultConnectSecurityDescriptor: SDDL_SYSTEM_AND_ADMINS,
        ServiceTable: buildServiceTable('hvSocketServices', services),
      },
    },
    VideoMonitor: {
      ...buildVideoMonitor(o.videoMonitor),
      ConnectionOptions: buildRdpConnectionOptions('videoConnection', o.videoConnection, true),
    },
    Keyboard: {},
    Mouse: {},
  };
  if (o.networkAdapters !== undefined)
    devices.NetworkAdapters = buildNetworkAdapters('networkAdapters', o.networkAdapters);

  const vm: VirtualMachineExt = {
    StopOnReset: false,
    Chipset: {
      Uefi: {
        ApplySecureBootTemplate: 'Apply',
        SecureBootTemplateId: MICROSOFT_WINDOWS_SECURE_BOOT_TEMPLATE,
      },
    },
    ComputeTopology: {
      Memory: buildMemory({ memoryMB, ...(o.memory !== undefined && { memory: o.memory }) }, host),
      Processor: buildProcessor(
        {
          ...(o.processorCount !== undefined && { processorCount: o.processorCount }),
          ...(o.processor !== undefined && { processor: o.processor }),
        },
        host,
      ),
    },
    Devices: devices,
    GuestState: { GuestStateFilePath: guestState, RuntimeStateFilePath: runtimeState },
  };
  return {
    Owner: envelope.Owner,
    SchemaVersion: envelope.SchemaVersion,
    VirtualMachine: vm,
    ShouldTerminateOnLastHandleClosed: envelope.ShouldTerminateOnLastHandleClosed,
  };
}

/** `Devices.VideoMonitor`'s resolution. */
function buildVideoMonitor(value: DiskBootVmOptions['videoMonitor']): Hcs.VideoMonitor {
  if (value === undefined) {
    return {
      HorizontalResolution: DEFAULT_RESOLUTION.horizontal,
      VerticalResolution: DEFAULT_RESOLUTION.vertical,
    };
  }
  checkObject('videoMonitor', value);
  const known = new Set(['horizontalResolution', 'verticalResolution']);
  for (const key of Object.keys(value)) {
    if (!known.has(key))
      throw new InvalidArgumentError(
        `videoMonitor.${key}`,
        'horizontalResolution or verticalResolution',
        key,
      );
  }
  return {
    HorizontalResolution:
      value.horizontalResolution === undefined
        ? DEFAULT_RESOLUTION.horizontal
        : checkInteger('videoMonitor.horizontalResolution', value.horizontalResolution, 640, 7680),
    VerticalResolution:
      value.verticalResolution === undefined
        ? DEFAULT_RESOLUTION.vertical
        : checkInteger('videoMonitor.verticalResolution', value.verticalResolution, 480, 4320),
  };
}
