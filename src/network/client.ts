import { type HcnApi, type HcnCallResult, networkBindings } from '../native/network/provider.js';
import { hostComputeQuery } from './documents.js';
import { HcnError } from './errors.js';

/** Properties HCN returns for a network (the fields hcs-sandbox reads; the rest is kept). */
export interface HcnNetworkProperties {
  ID: string;
  Name?: string;
  Type?: string;
  Flags?: number;
  Ipams?: { Type?: string; Subnets?: { IpAddressPrefix?: string; Routes?: { NextHop?: string }[] }[] }[];
  Policies?: { Type: string; Settings?: Record<string, unknown> }[];
  [key: string]: unknown;
}

export interface HcnEndpointProperties {
  ID: string;
  Name?: string;
  HostComputeNetwork?: string;
  HostComputeNamespace?: string;
  IpConfigurations?: { IpAddress?: string; PrefixLength?: number }[];
  MacAddress?: string;
  Policies?: { Type: string; Settings?: Record<string, unknown> }[];
  Dns?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface HcnNamespaceProperties {
  ID: string;
  Resources?: { Type?: string; Data?: { ID?: string } }[];
  [key: string]: unknown;
}

/** hcsshim's rule: a failed HRESULT, or a non-empty ErrorRecord even with S_OK, is a failure. */
function check(operation: string, r: HcnCallResult, subject?: string): void {
  if (r.hr < 0 || (r.errorRecord && r.errorRecord.trim() !== '')) {
    throw new HcnError({
      hresult: r.hr < 0 ? r.hr : 0x80004005,
      operation,
      subject,
      errorRecord: r.errorRecord,
    });
  }
}

function parseJson<T>(operation: string, text: string | null): T {
  try {
    return JSON.parse(text ?? 'null') as T;
  } catch (error) {
    throw new HcnError({
      hresult: 0x803b001b,
      operation,
      errorRecord: `unparsable result: ${(error as Error).message}`,
    });
  }
}

/**
 * HCN objects by id, in JSON terms: every handle opened here is closed before
 * the method returns, and every HCN failure becomes an {@link HcnError}.
 */
export class HcnClient {
  readonly #api: HcnApi;

  constructor(api: HcnApi = networkBindings()) {
    this.#api = api;
  }

  get api(): HcnApi {
    return this.#api;
  }

  // ---------------------------------------------------------------- networks
  async networkIds(filter?: Record<string, unknown>): Promise<string[]> {
    const r = await this.#api.enumerateNetworks(filter ? hostComputeQuery(filter) : '');
    check('HcnEnumerateNetworks', r);
    return parseJson<string[]>('HcnEnumerateNetworks', r.value) ?? [];
  }

  /** A network's properties, or undefined if it does not exist (any more). */
  async network(id: string): Promise<HcnNetworkProperties | undefined> {
    const open = await this.#api.openNetwork(id);
    if (open.hr < 0 && isNotFound(open.hr)) return undefined;
    check('HcnOpenNetwork', open, `network ${id}`);
    const handle = open.handle;
    if (!handle) return undefined;
    try {
      const q = await this.#api.queryNetworkProperties(handle, null);
      if (q.hr < 0 && isNotFound(q.hr)) return undefined;
      check('HcnQueryNetworkProperties', q, `network ${id}`);
      return parseJson<HcnNetworkProperties>('HcnQueryNetworkProperties', q.value);
    } finally {
      await this.#api.closeNetwork(handle);
    }
  }

  async networks(filter?: Record<string, unknown>): Promise<HcnNetworkProperties[]> {
    const out: HcnNetworkProperties[] = [];
    for (const id of await this.networkIds(filter)) {
      const props = await this.network(id);
      if (props) out.push(props);
    }
    return out;
  }

  /** Creates a network; returns its properties. */
  async createNetwork(id: string, document: object): Promise<HcnNetworkProperties> {
    const r = await this.#api.createNetwork(id, JSON.stringify(document));
    try {
      check('HcnCreateNetwork', r, `network ${JSON.stringify((document as { Name?: string }).Name ?? id)}`);
      const handle = r.handle;
      if (!handle)
        throw new HcnError({ hresult: 0x80004005, operation: 'HcnCreateNetwork', errorRecord: 'no handle' });
      try {
        const q = await this.#api.queryNetworkProperties(handle, null);
        check('HcnQueryNetworkProperties', q, `network ${id}`);
        return parseJson<HcnNetworkProperties>('HcnQueryNetworkProperties', q.value);
      } catch (error) {
        // created but unreadable: do not leave it behind
        await this.#api.deleteNetwork(id).catch(() => undefined);
        throw error;
      }
    } finally {
      if (r.handle) await this.#api.closeNetwork(r.handle);
    }
  }

  async deleteNetwork(id: string): Promise<void> {
    check('HcnDeleteNetwork', await this.#api.deleteNetwork(id), `network ${id}`);
  }

  // ---------------------------------------------------------------- endpoints
  async endpointIds(filter?: Record<string, unknown>): Promise<string[]> {
    const r = await this.#api.enumerateEndpoints(filter ? hostComputeQuery(filter) : '');
    check('HcnEnumerateEndpoints', r);
    return parseJson<string[]>('HcnEnumerateEndpoints', r.value) ?? [];
  }

  async endpoint(id: string): Promise<HcnEndpointProperties | undefined> {
    const open = await this.#api.openEndpoint(id);
    if (open.hr < 0 && isNotFound(open.hr)) return undefined;
    check('HcnOpenEndpoint', open, `endpoint ${id}`);
    const handle = open.handle;
    if (!handle) return undefined;
    try {
      const q = await this.#api.queryEndpointProperties(handle, null);
      if (q.hr < 0 && isNotFound(q.hr)) return undefined;
      check('HcnQueryEndpointProperties', q, `endpoint ${id}`);
      return parseJson<HcnEndpointProperties>('HcnQueryEndpointProperties', q.value);
    } finally {
      await this.#api.closeEndpoint(handle);
    }
  }

  async endpoints(filter?: Record<string, unknown>): Promise<HcnEndpointProperties[]> {
    const out: HcnEndpointProperties[] = [];
    for (const id of await this.endpointIds(filter)) {
      const props = await this.endpoint(id);
      if (props) out.push(props);
    }
    return out;
  }

  /**
   * Creates an endpoint on a network; returns its properties (IP, MAC). If
   * reading them back fails, the endpoint is deleted again before throwing.
   */
  async createEndpoint(networkId: string, id: string, document: object): Promise<HcnEndpointProperties> {
    const open = await this.#api.openNetwork(networkId);
    try {
      check('HcnOpenNetwork', open, `network ${networkId}`);
      const net = open.handle;
      if (!net)
        throw new HcnError({
          hresult: 0x803b0001,
          operation: 'HcnOpenNetwork',
          subject: `network ${networkId}`,
        });
      const r = await this.#api.createEndpoint(net, id, JSON.stringify(document));
      try {
        check(
          'HcnCreateEndpoint',
          r,
          `endpoint ${JSON.stringify((document as { Name?: string }).Name ?? id)}`,
        );
        const handle = r.handle;
        if (!handle)
          throw new HcnError({
            hresult: 0x80004005,
            operation: 'HcnCreateEndpoint',
            errorRecord: 'no handle',
          });
        try {
          const q = await this.#api.queryEndpointProperties(handle, null);
          check('HcnQueryEndpointProperties', q, `endpoint ${id}`);
          return parseJson<HcnEndpointProperties>('HcnQueryEndpointProperties', q.value);
        } catch (error) {
          await this.#api.deleteEndpoint(id).catch(() => undefined);
          throw error;
        }
      } finally {
        if (r.handle) await this.#api.closeEndpoint(r.handle);
      }
    } finally {
      if (open.handle) await this.#api.closeNetwork(open.handle);
    }
  }

  async deleteEndpoint(id: string): Promise<void> {
    check('HcnDeleteEndpoint', await this.#api.deleteEndpoint(id), `endpoint ${id}`);
  }

  // ---------------------------------------------------------------- namespaces
  async namespaceIds(filter?: Record<string, unknown>): Promise<string[]> {
    const r = await this.#api.enumerateNamespaces(filter ? hostComputeQuery(filter) : '');
    check('HcnEnumerateNamespaces', r);
    return parseJson<string[]>('HcnEnumerateNamespaces', r.value) ?? [];
  }

  async namespace(id: string): Promise<HcnNamespaceProperties | undefined> {
    const open = await this.#api.openNamespace(id);
    if (open.hr < 0 && isNotFound(open.hr)) return undefined;
    check('HcnOpenNamespace', open, `namespace ${id}`);
    const handle = open.handle;
    if (!handle) return undefined;
    try {
      const q = await this.#api.queryNamespaceProperties(handle, null);
      check('HcnQueryNamespaceProperties', q, `namespace ${id}`);
      return parseJson<HcnNamespaceProperties>('HcnQueryNamespaceProperties', q.value);
    } finally {
      await this.#api.closeNamespace(handle);
    }
  }

  async createNamespace(id: string, document: object): Promise<void> {
    const r = await this.#api.createNamespace(id, JSON.stringify(document));
    try {
      check('HcnCreateNamespace', r, `namespace ${id}`);
    } finally {
      if (r.handle) await this.#api.closeNamespace(r.handle);
    }
  }

  async modifyNamespace(id: string, request: string): Promise<void> {
    const open = await this.#api.openNamespace(id);
    try {
      check('HcnOpenNamespace', open, `namespace ${id}`);
      if (!open.handle)
        throw new HcnError({
          hresult: 0x80070490,
          operation: 'HcnOpenNamespace',
          subject: `namespace ${id}`,
        });
      check('HcnModifyNamespace', await this.#api.modifyNamespace(open.handle, request), `namespace ${id}`);
    } finally {
      if (open.handle) await this.#api.closeNamespace(open.handle);
    }
  }

  async deleteNamespace(id: string): Promise<void> {
    check('HcnDeleteNamespace', await this.#api.deleteNamespace(id), `namespace ${id}`);
  }
}

function isNotFound(hr: number): boolean {
  const u = hr >>> 0;
  return u === 0x803b0001 || u === 0x803b0002 || u === 0x80070490;
}
