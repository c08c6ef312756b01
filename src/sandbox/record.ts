import { InvalidArgumentError } from '../internal/errors.js';
import { SANDBOX_ISOLATIONS, type SandboxIsolation } from '../internal/isolation.js';
import type { LayerRef } from '../storage/types.js';

/**
 * The sandbox record: what the state store remembers of one sandbox, fully
 * typed, and the one function that checks a record read from disk (a record
 * file is input like any other: another process, an older version or a hand
 * may have written it).
 */

export { SANDBOX_ISOLATIONS, type SandboxIsolation } from '../internal/isolation.js';
export type SandboxStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped' | 'removing';

export const SANDBOX_STATUSES: readonly SandboxStatus[] = [
  'creating',
  'created',
  'running',
  'paused',
  'stopped',
  'removing',
];

/** A mapped folder as stored: every field present. */
export interface StoredMappedFolder {
  hostPath: string;
  sandboxPath: string;
  readOnly: boolean;
}

/** The creation options a sandbox record keeps, and what create learnt on the way (network). */
export interface StoredOptions {
  memoryMB?: number;
  cpus?: number;
  cpuLimit?: number;
  cpuWeight?: number;
  ioMaxIops?: number;
  ioMaxBandwidth?: number;
  mappedFolders?: StoredMappedFolder[];
  env?: Record<string, string>;
  workingDir?: string;
  hostName?: string;
  scratchSizeGB?: number;
  /** The Owner written into the compute system. */
  owner?: string;
  /** `nat`, `isolated`, `internal` or `none` (absent on records older than networking: none). */
  network?: string;
  /** The HCN namespace the sandbox's endpoint is attached to. */
  namespaceId?: string;
  /** Published ports, `host:sandbox/protocol`. */
  ports?: string[];
  /** The network joined by name (else the mode's default), to recreate the endpoint after a host restart. */
  networkName?: string;
  /** isolated: the CIDRs allowed despite the block rules. */
  allow?: string[];
  /** The DNS servers and search suffixes the endpoint was created with. */
  dns?: { servers?: string[]; search?: string[] };
}

export interface SandboxRecord {
  name: string;
  /** The compute system id. */
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, set by the store on every write. */
  updatedAt: string;
  /** The options the sandbox was created with. */
  options: StoredOptions;
  isolation: SandboxIsolation;
  /** Image reference. */
  image?: string;
  /** Read-only layers, top first. */
  layers?: LayerRef[];
  /** The sandbox's writable layer folder. */
  scratchDir?: string;
  /** Where the writable layer is mounted on the host while the sandbox exists (process isolation). */
  volumePath?: string;
  /** The utility VM's compute system id (Hyper-V isolation). */
  uvmId?: string;
  status: SandboxStatus;
  /** Named sandboxes outlive their creator; ephemeral ones die with it. */
  persistent: boolean;
  /** The process that owns an ephemeral sandbox, or that is creating one. */
  ownerPid?: number;
}

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const NAME_ALLOWED = '1 to 63 characters of a-z, 0-9, "_", "." and "-", starting with a letter or digit';
/** Names Windows reserves for devices, even with an extension (`con.json`). */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/** True when `name` could be a sandbox's name (for skipping foreign files in a listing). */
export function isSandboxName(name: string): boolean {
  return NAME.test(name) && !RESERVED.test(name.split('.')[0]!);
}

/** @throws InvalidArgumentError unless `name` is a valid sandbox name. */
export function validateSandboxName(name: unknown, field = 'name'): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(field, NAME_ALLOWED, name);
  }
  if (RESERVED.test(name.split('.')[0]!)) {
    throw new InvalidArgumentError(field, NAME_ALLOWED, name, 'a name Windows reserves for a device');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isTimestamp = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

const NUMBER_OPTIONS = [
  'memoryMB',
  'cpus',
  'cpuLimit',
  'cpuWeight',
  'ioMaxIops',
  'ioMaxBandwidth',
  'scratchSizeGB',
] as const;
const STRING_OPTIONS = ['workingDir', 'hostName', 'owner', 'network', 'namespaceId', 'networkName'] as const;
const STRING_LIST_OPTIONS = ['ports', 'allow'] as const;

/** Checks the stored options field by field and keeps only the known ones. */
function checkOptions(value: unknown): StoredOptions {
  if (!isObject(value)) throw new InvalidArgumentError('record.options', 'an object', value);
  const fail = (field: string, allowed: string): never => {
    throw new InvalidArgumentError(`record.options.${field}`, allowed, value[field]);
  };
  const options: StoredOptions = {};
  for (const field of NUMBER_OPTIONS) {
    const v = value[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, 'a number');
    options[field] = v as number;
  }
  for (const field of STRING_OPTIONS) {
    const v = value[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') fail(field, 'a string');
    options[field] = v as string;
  }
  if (value.mappedFolders !== undefined) {
    const folders = value.mappedFolders;
    const ok =
      Array.isArray(folders) &&
      folders.every(
        (f) => isObject(f) && typeof f.hostPath === 'string' && typeof f.sandboxPath === 'string',
      );
    if (!ok) fail('mappedFolders', 'a list of { hostPath, sandboxPath, readOnly }');
    options.mappedFolders = (folders as Record<string, unknown>[]).map((f) => ({
      hostPath: f.hostPath as string,
      sandboxPath: f.sandboxPath as string,
      readOnly: f.readOnly === true,
    }));
  }
  if (value.env !== undefined) {
    const env = value.env;
    if (!isObject(env) || !Object.values(env).every((v) => typeof v === 'string')) {
      fail('env', 'an object of strings');
    }
    options.env = { ...(env as Record<string, string>) };
  }
  const isStringList = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((p) => typeof p === 'string');
  for (const field of STRING_LIST_OPTIONS) {
    const v = value[field];
    if (v === undefined) continue;
    if (!isStringList(v)) fail(field, 'a list of strings');
    options[field] = [...(v as string[])];
  }
  if (value.dns !== undefined) {
    const dns = value.dns;
    const ok = isObject(dns) && [dns.servers, dns.search].every((l) => l === undefined || isStringList(l));
    if (!ok) fail('dns', '{ servers?, search? } lists of strings');
    const { servers, search } = dns as { servers?: string[]; search?: string[] };
    options.dns = { ...(servers && { servers: [...servers] }), ...(search && { search: [...search] }) };
  }
  return options;
}

/** Validates a whole record (from disk or from a caller) and returns it with only known fields. */
export function checkRecord(value: unknown): SandboxRecord {
  if (!isObject(value)) throw new InvalidArgumentError('record', 'an object', value);
  const v = value;
  validateSandboxName(v.name, 'record.name');
  const fail = (field: string, allowed: string): never => {
    throw new InvalidArgumentError(`record.${field}`, allowed, v[field]);
  };
  if (typeof v.id !== 'string' || v.id.trim() === '')
    fail('id', 'the compute system id (a non-empty string)');
  if (!isTimestamp(v.createdAt)) fail('createdAt', 'an ISO 8601 time');
  if (!isTimestamp(v.updatedAt)) fail('updatedAt', 'an ISO 8601 time');
  if (!SANDBOX_ISOLATIONS.includes(v.isolation as SandboxIsolation)) {
    fail('isolation', SANDBOX_ISOLATIONS.map((i) => `'${i}'`).join(', '));
  }
  if (!SANDBOX_STATUSES.includes(v.status as SandboxStatus)) {
    fail('status', SANDBOX_STATUSES.map((s) => `'${s}'`).join(', '));
  }
  if (typeof v.persistent !== 'boolean') fail('persistent', 'true or false');
  if (v.image !== undefined && (typeof v.image !== 'string' || v.image === ''))
    fail('image', 'an image reference');
  if (v.scratchDir !== undefined && (typeof v.scratchDir !== 'string' || v.scratchDir === '')) {
    fail('scratchDir', 'a folder path');
  }
  for (const field of ['volumePath', 'uvmId'] as const) {
    if (v[field] !== undefined && (typeof v[field] !== 'string' || v[field] === ''))
      fail(field, 'a non-empty string');
  }
  if (v.ownerPid !== undefined && !(Number.isInteger(v.ownerPid) && (v.ownerPid as number) > 0)) {
    fail('ownerPid', 'a process id (a positive integer)');
  }
  if (
    v.layers !== undefined &&
    !(
      Array.isArray(v.layers) &&
      v.layers.every((l) => isObject(l) && typeof l.id === 'string' && typeof l.path === 'string')
    )
  ) {
    fail('layers', 'a list of { id, path }');
  }
  const record: SandboxRecord = {
    name: v.name,
    id: v.id as string,
    createdAt: v.createdAt as string,
    updatedAt: v.updatedAt as string,
    options: checkOptions(v.options),
    isolation: v.isolation as SandboxIsolation,
    status: v.status as SandboxStatus,
    persistent: v.persistent as boolean,
  };
  if (v.image !== undefined) record.image = v.image as string;
  if (v.layers !== undefined)
    record.layers = (v.layers as LayerRef[]).map((l) => ({ id: l.id, path: l.path }));
  if (v.scratchDir !== undefined) record.scratchDir = v.scratchDir as string;
  if (v.ownerPid !== undefined) record.ownerPid = v.ownerPid as number;
  if (v.volumePath !== undefined) record.volumePath = v.volumePath as string;
  if (v.uvmId !== undefined) record.uvmId = v.uvmId as string;
  return record;
}
