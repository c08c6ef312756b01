/**
 * Process-isolated Windows Server container ("Argon", a server silo): the
 * `Container` compute-system document (HCS-NOTES §5a; hcsshim
 * `internal/hcsoci/hcsdoc_wcow.go` builds the same shape).
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type { ComputeSystemDocument } from '../extensions.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkArray,
  checkBoolean,
  checkDomain,
  checkGuestPath,
  checkGuid,
  checkHost,
  checkHostName,
  checkHostPath,
  checkInteger,
  checkMemoryMB,
  checkObject,
  checkPipePath,
  checkProcessorCount,
  checkText,
  compact,
  type HostFacts,
  type SystemDocumentOptions,
  systemEnvelope,
} from './common.js';

/** Smallest memory limit accepted for a container (job-object commit limit), in MB. */
export const MIN_CONTAINER_MEMORY_MB = 256;

export interface LayerInput {
  /** Layer GUID (hcsshim derives it with vmcompute `NameToGuid(basename(path))`). */
  id: string;
  /** Host path of the layer folder (or, inside a utility VM, the guest path of its share). */
  path: string;
}

export interface MappedDirectoryInput {
  /** Absolute host folder. Checked with `host.pathExists` when given. */
  hostPath: string;
  /** Absolute path inside the container, below the drive root (`C:\data`). */
  containerPath: string;
  /** Default false. */
  readOnly?: boolean;
}

export interface MappedPipeInput {
  /** Pipe name inside the container, without `\\.\pipe\`. */
  containerPipeName: string;
  /** Full host pipe path, `\\.\pipe\name`. */
  hostPath: string;
}

export interface ContainerNetworkingInput {
  /** HCN namespace GUID. */
  namespaceId?: string;
  allowUnqualifiedDnsQuery?: boolean;
  /** DNS suffixes; sent comma-separated. */
  dnsSearchList?: string[];
}

/**
 * Container CPU limits. HCS treats these as mutually exclusive: pass at most one.
 */
export interface ContainerProcessorInput {
  /** Number of processors (1..host logical processors). */
  count?: number;
  /** Share of CPU cycles per 10,000 (percent × 100), 1..10000. */
  maximum?: number;
  /** Relative weight, 1..10000. */
  weight?: number;
}

export interface ProcessContainerOptions extends SystemDocumentOptions {
  /** Read-only parent layers, from the one just below the scratch down to the base OS layer (last). */
  layers: LayerInput[];
  /**
   * The mounted scratch volume (`\\?\Volume{GUID}\`) or folder. A trailing
   * backslash is added when missing, as hcsshim does.
   */
  scratchPath: string;
  hostName?: string;
  mappedDirectories?: MappedDirectoryInput[];
  mappedPipes?: MappedPipeInput[];
  networking?: ContainerNetworkingInput;
  processor?: ContainerProcessorInput;
  /** Memory limit in MB (>= 256). */
  memoryMB?: number;
  /** Storage QoS of the container's volume (`Storage.QoS`): IO operations and bytes per second. */
  storageQoS?: StorageQoSInput;
}

export interface StorageQoSInput {
  iopsMaximum?: number;
  /** Bytes per second. */
  bandwidthMaximum?: number;
}

export function buildStorageQoS(field: string, value: unknown): Hcs.StorageQoS {
  checkObject(field, value);
  const q = value as StorageQoSInput;
  if (q.iopsMaximum === undefined && q.bandwidthMaximum === undefined) {
    throw new InvalidArgumentError(field, 'iopsMaximum and/or bandwidthMaximum', value);
  }
  return {
    ...(q.iopsMaximum !== undefined && {
      IopsMaximum: checkInteger(
        `${field}.iopsMaximum`,
        q.iopsMaximum,
        1,
        Number.MAX_SAFE_INTEGER,
        '(operations per second)',
      ),
    }),
    ...(q.bandwidthMaximum !== undefined && {
      BandwidthMaximum: checkInteger(
        `${field}.bandwidthMaximum`,
        q.bandwidthMaximum,
        1,
        Number.MAX_SAFE_INTEGER,
        '(bytes per second)',
      ),
    }),
  };
}

export function checkLayers(
  field: string,
  value: unknown,
  host: HostFacts,
  opts: { guestPaths?: boolean } = {},
): Hcs.Layer[] {
  checkArray(field, value);
  if (value.length === 0) {
    throw new InvalidArgumentError(field, 'at least one layer (the base OS layer last)', value);
  }
  const seen = new Set<string>();
  return value.map((layer, i) => {
    checkObject(`${field}[${i}]`, layer);
    const l = layer as LayerInput;
    const id = checkGuid(`${field}[${i}].id`, l.id);
    if (seen.has(id.toLowerCase())) {
      throw new InvalidArgumentError(`${field}[${i}].id`, 'a layer id not used by another layer', id);
    }
    seen.add(id.toLowerCase());
    const path = opts.guestPaths
      ? checkText(`${field}[${i}].path`, l.path)
      : checkHostPath(`${field}[${i}].path`, l.path, { host, mustExist: true });
    return { Id: id, Path: path };
  });
}

export function checkMappedDirectories(
  field: string,
  value: unknown,
  host: HostFacts,
): Array<{ hostPath: string; containerPath: string; readOnly: boolean }> {
  checkArray(field, value);
  const targets = new Set<string>();
  return value.map((entry, i) => {
    checkObject(`${field}[${i}]`, entry);
    const m = entry as MappedDirectoryInput;
    const hostPath = checkHostPath(`${field}[${i}].hostPath`, m.hostPath, { host, mustExist: true });
    const containerPath = checkGuestPath(`${field}[${i}].containerPath`, m.containerPath);
    const key = containerPath.toLowerCase().replace(/\\$/, '');
    if (targets.has(key)) {
      throw new InvalidArgumentError(
        `${field}[${i}].containerPath`,
        'a path not mapped twice',
        containerPath,
      );
    }
    targets.add(key);
    const readOnly = m.readOnly === undefined ? false : checkBoolean(`${field}[${i}].readOnly`, m.readOnly);
    return { hostPath, containerPath, readOnly };
  });
}

export function buildMappedPipes(field: string, value: unknown): Hcs.MappedPipe[] {
  checkArray(field, value);
  return value.map((entry, i) => {
    checkObject(`${field}[${i}]`, entry);
    const p = entry as MappedPipeInput;
    const name = checkText(`${field}[${i}].containerPipeName`, p.containerPipeName, { max: 256 });
    if (name.includes('\\')) {
      throw new InvalidArgumentError(
        `${field}[${i}].containerPipeName`,
        'a bare pipe name without \\\\.\\pipe\\ or backslashes',
        name,
      );
    }
    return { ContainerPipeName: name, HostPath: checkPipePath(`${field}[${i}].hostPath`, p.hostPath) };
  });
}

export function buildContainerNetworking(field: string, value: unknown): Hcs.Networking {
  checkObject(field, value);
  const n = value as ContainerNetworkingInput;
  const out: Hcs.Networking = {};
  if (n.allowUnqualifiedDnsQuery !== undefined) {
    out.AllowUnqualifiedDnsQuery = checkBoolean(
      `${field}.allowUnqualifiedDnsQuery`,
      n.allowUnqualifiedDnsQuery,
    );
  }
  if (n.dnsSearchList !== undefined) {
    checkArray(`${field}.dnsSearchList`, n.dnsSearchList);
    out.DnsSearchList = n.dnsSearchList
      .map((d, i) => checkDomain(`${field}.dnsSearchList[${i}]`, d))
      .join(',');
  }
  if (n.namespaceId !== undefined) out.Namespace = checkGuid(`${field}.namespaceId`, n.namespaceId);
  return out;
}

export function buildContainerProcessor(
  field: string,
  value: unknown,
  host: HostFacts,
): Hcs.Container_Processor {
  checkObject(field, value);
  const p = value as ContainerProcessorInput;
  const given = (['count', 'maximum', 'weight'] as const).filter((k) => p[k] !== undefined);
  if (given.length === 0) throw new InvalidArgumentError(field, 'one of count, maximum or weight', value);
  if (given.length > 1) {
    throw new InvalidArgumentError(
      field,
      'only one of count, maximum or weight (HCS treats them as mutually exclusive)',
      value,
    );
  }
  if (p.count !== undefined) return { Count: checkProcessorCount(`${field}.count`, p.count, host) };
  if (p.maximum !== undefined) {
    return { Maximum: checkInteger(`${field}.maximum`, p.maximum, 1, 10000, '(percent × 100)') };
  }
  return { Weight: checkInteger(`${field}.weight`, p.weight, 1, 10000) };
}

export function checkContainerMemory(field: string, value: unknown, host: HostFacts): Hcs.Container_Memory {
  return { SizeInMB: checkMemoryMB(field, value, MIN_CONTAINER_MEMORY_MB, host) };
}

/** Builds the `Container` compute-system document of a process-isolated container. */
export function buildProcessContainer(options: ProcessContainerOptions): ComputeSystemDocument {
  checkObject('options', options);
  const host = checkHost(options.host);
  const envelope = systemEnvelope(options);
  const layers = checkLayers('layers', options.layers, host);
  let scratch = checkHostPath('scratchPath', options.scratchPath);
  if (!scratch.endsWith('\\')) scratch += '\\';

  const container: Hcs.Container = {};
  if (options.hostName !== undefined)
    container.GuestOs = { HostName: checkHostName('hostName', options.hostName) };
  container.Storage = {
    Layers: layers,
    Path: scratch,
    ...(options.storageQoS !== undefined && { QoS: buildStorageQoS('storageQoS', options.storageQoS) }),
  };
  if (options.mappedDirectories !== undefined) {
    container.MappedDirectories = checkMappedDirectories(
      'mappedDirectories',
      options.mappedDirectories,
      host,
    ).map((m) => ({ HostPath: m.hostPath, ContainerPath: m.containerPath, ReadOnly: m.readOnly }));
  }
  if (options.mappedPipes !== undefined)
    container.MappedPipes = buildMappedPipes('mappedPipes', options.mappedPipes);
  if (options.networking !== undefined) {
    container.Networking = buildContainerNetworking('networking', options.networking);
  }
  if (options.processor !== undefined) {
    container.Processor = buildContainerProcessor('processor', options.processor, host);
  }
  if (options.memoryMB !== undefined)
    container.Memory = checkContainerMemory('memoryMB', options.memoryMB, host);

  return compact({
    Owner: envelope.Owner,
    SchemaVersion: envelope.SchemaVersion,
    ShouldTerminateOnLastHandleClosed: envelope.ShouldTerminateOnLastHandleClosed,
    Container: container,
  });
}
