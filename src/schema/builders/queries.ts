/**
 * Property queries (`HcsGetComputeSystemProperties`, `HcsGetServiceProperties`) and
 * the `SystemQuery` filter of `HcsEnumerateComputeSystems` (HCS-NOTES §5f, §5g).
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type * as Hcs from '../generated/hcs.js';
import { checkArray, checkEnum, checkText, DEFAULT_OWNER } from './common.js';

export const SYSTEM_PROPERTY_TYPES: readonly Hcs.System_PropertyType[] = [
  'Memory',
  'Statistics',
  'ProcessList',
  'TerminateOnLastHandleClosed',
  'SharedMemoryRegion',
  'GuestConnection',
];

export const SERVICE_PROPERTY_TYPES: readonly Hcs.GetPropertyType[] = [
  'Basic',
  'CpuGroup',
  'ProcessorTopology',
  'ContainerCredentialGuard',
  'QoSCapabilities',
];

function uniqueEnumList<T extends string>(field: string, value: unknown, allowed: readonly T[]): T[] {
  checkArray(field, value);
  const out: T[] = [];
  value.forEach((v, i) => {
    const t = checkEnum(`${field}[${i}]`, v, allowed);
    if (!out.includes(t)) out.push(t);
  });
  return out;
}

/**
 * `{"PropertyTypes": [...]}` for `HcsGetComputeSystemProperties`. An empty list
 * asks for the basic properties only. Duplicates are dropped.
 */
export function buildPropertyQuery(types: readonly Hcs.System_PropertyType[] = []): Hcs.System_PropertyQuery {
  return { PropertyTypes: uniqueEnumList('propertyTypes', types, SYSTEM_PROPERTY_TYPES) };
}

/** `{"PropertyTypes": [...]}` for `HcsGetServiceProperties` (default `["Basic"]`: supported schema versions). */
export function buildServicePropertyQuery(
  types: readonly Hcs.GetPropertyType[] = ['Basic'],
): Hcs.Service_PropertyQuery {
  const list = uniqueEnumList('propertyTypes', types, SERVICE_PROPERTY_TYPES);
  if (list.length === 0) throw new InvalidArgumentError('propertyTypes', 'at least one property type', types);
  return { PropertyTypes: list };
}

export interface SystemQueryInput {
  ids?: string[];
  names?: string[];
  types?: Hcs.SystemType[];
  owners?: string[];
}

function textList(field: string, value: unknown): string[] {
  checkArray(field, value);
  return value.map((v, i) => checkText(`${field}[${i}]`, v, { max: 256 }));
}

/** `SystemQuery` for `HcsEnumerateComputeSystems`; every filter is optional, `{}` lists everything. */
export function buildSystemQuery(input: SystemQueryInput = {}): Hcs.SystemQuery {
  if (typeof input !== 'object' || input === null)
    throw new InvalidArgumentError('query', 'an object', input);
  const q: Hcs.SystemQuery = {};
  if (input.ids !== undefined) q.Ids = textList('ids', input.ids);
  if (input.names !== undefined) q.Names = textList('names', input.names);
  if (input.types !== undefined)
    q.Types = uniqueEnumList('types', input.types, ['Container', 'VirtualMachine']);
  if (input.owners !== undefined) q.Owners = textList('owners', input.owners);
  return q;
}

/** The systems this library created (by `Owner`), for cleanup after a crash. */
export function buildOwnedSystemsQuery(owner: string = DEFAULT_OWNER): Hcs.SystemQuery {
  return buildSystemQuery({ owners: [owner] });
}
