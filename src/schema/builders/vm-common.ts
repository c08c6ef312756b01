/**
 * Pieces shared by the VM builders (utility VM and sandbox VM): VSMB shares,
 * hvsocket service tables, network adapters and the UEFI VmbFs boot entry.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkArray,
  checkBoolean,
  checkGuid,
  checkHostPath,
  checkMac,
  checkObject,
  checkPipePath,
  checkSddl,
  checkShareName,
  checkSid,
  type HostFacts,
} from './common.js';

/** Minimum memory of a utility VM, in MB. */
export const MIN_UVM_MEMORY_MB = 512;
/** Minimum memory of a sandbox VM (Windows Sandbox starts its VM at 1024 MB), in MB. */
export const MIN_VM_MEMORY_MB = 1024;

/** SDDL letting SYSTEM and Administrators bind/connect (hcsshim's UVM default). */
export const SDDL_SYSTEM_AND_ADMINS = 'D:P(A;;FA;;;SY)(A;;FA;;;BA)';

/** Boot entry for UEFI booting Windows from the VSMB share named `os`. */
export const VMBFS_BOOT: Readonly<Hcs.UefiBootEntry> = Object.freeze({
  DeviceType: 'VmbFs',
  DevicePath: '\\EFI\\Microsoft\\Boot\\bootmgfw.efi',
});

/** hcsshim's first SCSI controller key (`internal/protocol/guestrequest` ScsiControllerGuids[0]). */
export const UVM_SCSI_CONTROLLER = 'df6d0690-79e5-55b6-a5ec-c1e2f77f580a';

export interface VsmbShareInput {
  /** Share name; the guest sees it at `\\?\VMSMB\VSMB-{dcc079ae-...}\<name>`. */
  name: string;
  /** Host folder to share. Checked with `host.pathExists` when given. */
  hostPath: string;
  /** Default true. */
  readOnly?: boolean;
}

/** hcsshim's options for a read-only share (`DefaultVSMBOptions(true)`); writable shares get none of them. */
export function vsmbOptions(readOnly: boolean): Hcs.VirtualSmbShareOptions {
  return readOnly ? { ReadOnly: true, ShareRead: true, CacheIo: true, PseudoOplocks: true } : {};
}

export function buildVsmbShares(
  field: string,
  value: unknown,
  host: HostFacts,
  reserved: ReadonlySet<string> = new Set(),
): Hcs.VirtualSmbShare[] {
  checkArray(field, value);
  const names = new Set([...reserved].map((n) => n.toLowerCase()));
  return value.map((entry, i) => buildVsmbShare(`${field}[${i}]`, entry, host, names));
}

export function buildVsmbShare(
  field: string,
  entry: unknown,
  host: HostFacts,
  usedNames?: Set<string>,
): Hcs.VirtualSmbShare {
  checkObject(field, entry);
  const s = entry as VsmbShareInput;
  const name = checkShareName(`${field}.name`, s.name);
  if (usedNames) {
    if (usedNames.has(name.toLowerCase())) {
      throw new InvalidArgumentError(`${field}.name`, 'a share name not used by another share', name);
    }
    usedNames.add(name.toLowerCase());
  }
  const path = checkHostPath(`${field}.hostPath`, s.hostPath, { host, mustExist: true });
  const readOnly = s.readOnly === undefined ? true : checkBoolean(`${field}.readOnly`, s.readOnly);
  return { Name: name, Path: path, Options: vsmbOptions(readOnly) };
}

export interface HvSocketServiceInput {
  /** SDDL for binding from the host. */
  bindSecurityDescriptor?: string;
  /** SDDL for connecting from the host. */
  connectSecurityDescriptor?: string;
  allowWildcardBinds?: boolean;
}

export function buildServiceTable(field: string, value: unknown): Record<string, Hcs.HvSocketServiceConfig> {
  checkObject(field, value);
  const out: Record<string, Hcs.HvSocketServiceConfig> = {};
  for (const [id, cfg] of Object.entries(value as Record<string, unknown>)) {
    checkGuid(`${field}.<key>`, id);
    const f = `${field}[${id}]`;
    checkObject(f, cfg);
    const c = cfg as HvSocketServiceInput;
    const svc: Hcs.HvSocketServiceConfig = {};
    if (c.bindSecurityDescriptor !== undefined) {
      svc.BindSecurityDescriptor = checkSddl(`${f}.bindSecurityDescriptor`, c.bindSecurityDescriptor);
    }
    if (c.connectSecurityDescriptor !== undefined) {
      svc.ConnectSecurityDescriptor = checkSddl(
        `${f}.connectSecurityDescriptor`,
        c.connectSecurityDescriptor,
      );
    }
    if (c.allowWildcardBinds !== undefined) {
      svc.AllowWildcardBinds = checkBoolean(`${f}.allowWildcardBinds`, c.allowWildcardBinds);
    }
    out[id] = svc;
  }
  return out;
}

/** An RDP console served on a host named pipe (`VideoMonitor` or `EnhancedModeVideo`). */
export interface RdpConnectionInput {
  /** The pipe the VM worker serves it on, `\\.\pipe\name`. */
  namedPipe: string;
  /** The SIDs (`S-1-...`) allowed to open that pipe. */
  accessSids?: readonly string[];
}

/** More SIDs than any real list (the user and a group or two): a bound on what a caller can make us check. */
const MAX_ACCESS_SIDS = 32;

/**
 * `RdpConnectionOptions` (schema: `NamedPipe`, `AccessSids`). With
 * `requireSids`, at least one SID: a pipe nobody may open is a screen nobody
 * can see.
 */
export function buildRdpConnectionOptions(
  field: string,
  value: unknown,
  requireSids = false,
): Hcs.RdpConnectionOptions {
  checkObject(field, value);
  const known = new Set(['namedPipe', 'accessSids']);
  for (const key of Object.keys(value as object)) {
    if (!known.has(key)) throw new InvalidArgumentError(`${field}.${key}`, 'namedPipe or accessSids', key);
  }
  const v = value as unknown as RdpConnectionInput;
  const rdp: Hcs.RdpConnectionOptions = {};
  if (v.accessSids !== undefined || requireSids) {
    checkArray(`${field}.accessSids`, v.accessSids, requireSids ? 1 : 0);
    if (v.accessSids.length > MAX_ACCESS_SIDS) {
      throw new InvalidArgumentError(
        `${field}.accessSids`,
        `at most ${MAX_ACCESS_SIDS} SIDs`,
        `${v.accessSids.length} SIDs`,
      );
    }
    rdp.AccessSids = v.accessSids.map((s, i) => checkSid(`${field}.accessSids[${i}]`, s));
  }
  rdp.NamedPipe = checkPipePath(`${field}.namedPipe`, v.namedPipe);
  return rdp;
}

export interface NetworkAdapterInput {
  /** HCN endpoint GUID. */
  endpointId: string;
  /** `00-15-5D-xx-xx-xx`; omitted lets HCS/HCN pick. */
  macAddress?: string;
  /** Key in `Devices.NetworkAdapters`; default the endpoint id (as NanaBox does). */
  name?: string;
}

export function buildNetworkAdapter(
  field: string,
  entry: unknown,
): { key: string; adapter: Hcs.NetworkAdapter } {
  checkObject(field, entry);
  const n = entry as NetworkAdapterInput;
  const endpointId = checkGuid(`${field}.endpointId`, n.endpointId);
  const adapter: Hcs.NetworkAdapter = { EndpointId: endpointId };
  if (n.macAddress !== undefined) adapter.MacAddress = checkMac(`${field}.macAddress`, n.macAddress);
  let key = endpointId;
  if (n.name !== undefined) {
    if (typeof n.name !== 'string' || !/^[A-Za-z0-9_. -]{1,64}$/.test(n.name)) {
      throw new InvalidArgumentError(
        `${field}.name`,
        '1-64 letters, digits, spaces, "-", "_" or "."',
        n.name,
      );
    }
    key = n.name;
  }
  return { key, adapter };
}

export function buildNetworkAdapters(field: string, value: unknown): Record<string, Hcs.NetworkAdapter> {
  checkArray(field, value);
  const out: Record<string, Hcs.NetworkAdapter> = {};
  value.forEach((entry, i) => {
    const { key, adapter } = buildNetworkAdapter(`${field}[${i}]`, entry);
    if (key in out) throw new InvalidArgumentError(`${field}[${i}]`, 'an adapter name used once', key);
    out[key] = adapter;
  });
  return out;
}

/** hcsshim aligns VM memory up to an even number of MB (2 MB alignment, `vmutils.NormalizeMemorySize`). */
export function alignMemoryMB(sizeInMB: number): number {
  return sizeInMB % 2 === 0 ? sizeInMB : sizeInMB + 1;
}
