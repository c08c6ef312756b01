import { HcsEventOptions } from '../native/core/types.js';
import { HcsError } from './errors.js';
import { HR } from './hresults.js';
import { type CallOptions, runOperation, validateCallOptions } from './operation.js';
import { hcsRuntime } from './runtime.js';

/** One entry of HcsEnumerateComputeSystems' result (`ComputeSystemProperties`). */
export interface ComputeSystemSummary {
  Id: string;
  Name?: string;
  SystemType?: 'Container' | 'VirtualMachine' | string;
  Owner?: string;
  State?: string;
  RuntimeId?: string;
  RuntimeOsType?: string;
  HostingSystemId?: string;
  [field: string]: unknown;
}

/** `SystemQuery`: every field filters (all must match); omit for everything. */
export interface SystemQuery {
  Ids?: string[];
  Names?: string[];
  Owners?: string[];
  Types?: string[];
}

/**
 * Lists every compute system on the host that the caller may see, ours and
 * others' (Docker's, Windows Sandbox's "Madrid", ...), filtered by `query`.
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsenumeratecomputesystems
 */
export async function enumerateComputeSystems(
  query?: SystemQuery | null,
  options?: CallOptions,
): Promise<ComputeSystemSummary[]> {
  const text = query ? JSON.stringify(query) : null;
  const outcome = await runOperation(
    {
      name: 'HcsEnumerateComputeSystems',
      timeout: 'QUERY',
      call: (api, op) => api.enumerateComputeSystems(text, op),
    },
    options,
  );
  if (!outcome.document) return [];
  const parsed: unknown = JSON.parse(outcome.document);
  return Array.isArray(parsed) ? (parsed as ComputeSystemSummary[]) : [];
}

export interface SchemaVersion {
  Major: number;
  Minor: number;
}

export interface ServiceProperties {
  /** The HCS document schema versions this host accepts. */
  supportedSchemaVersions: SchemaVersion[];
  /** Every property document HCS returned, as it returned them. */
  raw: unknown[];
}

/**
 * The service's basic properties, above all which schema versions the host
 * supports (feeds the schema version negotiation).
 * @see https://learn.microsoft.com/virtualization/api/hcs/reference/hcsgetserviceproperties
 */
export async function serviceProperties(options?: CallOptions): Promise<ServiceProperties> {
  validateCallOptions(options);
  if (options?.signal?.aborted)
    throw new HcsError({
      hresult: HR.ERROR_CANCELLED,
      operation: 'HcsGetServiceProperties',
      canceled: true,
      cause: options.signal.reason,
    });
  const { api } = hcsRuntime();
  const result = await api.getServiceProperties(JSON.stringify({ PropertyTypes: ['Basic'] }));
  if (result.hr < 0)
    throw new HcsError({
      hresult: result.hr,
      operation: 'HcsGetServiceProperties',
      document: result.document,
    });
  const parsed = (result.document ? JSON.parse(result.document) : {}) as { Properties?: unknown[] };
  const raw = Array.isArray(parsed.Properties) ? parsed.Properties : [];
  const supportedSchemaVersions = raw.flatMap((entry) => {
    const versions = (entry as { SupportedSchemaVersions?: unknown }).SupportedSchemaVersions;
    return Array.isArray(versions) ? (versions as SchemaVersion[]) : [];
  });
  return { supportedSchemaVersions, raw };
}

/** Whether this computecore.dll exports `name` (functions arrive with newer builds). */
export function isFunctionAvailable(name: string): boolean {
  return hcsRuntime().api.hasFunction(name);
}

export { HcsEventOptions };
