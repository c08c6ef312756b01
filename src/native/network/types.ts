import type { Brand, HResult } from '../shared/types.js';

/**
 * The Host Compute Network surface in HCN terms (computenetwork.h). The koffi
 * implementation is `computenetwork.ts`; unit tests implement it in memory.
 * Nothing here mentions koffi.
 *
 * Every call returns a promise: HCN functions are synchronous RPCs into the
 * Host Network Service (HNS) that can take seconds (creating a NAT network
 * creates a vSwitch), so they run on koffi's worker pool. Returned strings
 * (`ErrorRecord`, `Properties`, enumerations) are decoded and freed with
 * `CoTaskMemFree` before the promise settles, on success and on failure.
 */

export type HcnNetworkHandle = Brand<bigint, 'HCN_NETWORK'>;
export type HcnEndpointHandle = Brand<bigint, 'HCN_ENDPOINT'>;
export type HcnNamespaceHandle = Brand<bigint, 'HCN_NAMESPACE'>;
export type HcnLoadBalancerHandle = Brand<bigint, 'HCN_LOADBALANCER'>;
export type HcnGuestNetworkServiceHandle = Brand<bigint, 'HCN_GUESTNETWORKSERVICE'>;
/** A port reservation `HANDLE` (release with {@link HcnApi.releasePortReservation}). */
export type HcnPortReservationHandle = Brand<bigint, 'HCN_PORT_RESERVATION'>;

/** Every HCN call: the HRESULT and the ErrorRecord JSON text HCN returned (or null). */
export interface HcnCallResult {
  hr: HResult;
  errorRecord: string | null;
}

export interface HcnStringResult extends HcnCallResult {
  /** `Networks`/`Endpoints`/... (a JSON array of GUID strings) or `Properties` (a JSON object). */
  value: string | null;
}

export interface HcnHandleResult<H> extends HcnCallResult {
  handle: H | null;
}

/** `HCN_PORT_PROTOCOL`. */
export const HcnPortProtocol = { Tcp: 1, Udp: 2, Both: 3 } as const;
/** `HCN_PORT_ACCESS`. */
export const HcnPortAccess = { Exclusive: 1, Shared: 2 } as const;

/** `HCN_PORT_RANGE_ENTRY`, decoded. */
export interface HcnPortRangeEntry {
  owningPartitionId: string;
  targetPartitionId: string;
  protocol: number;
  priority: bigint;
  reservationType: number;
  sharingFlags: number;
  deliveryMode: number;
  startingPort: number;
  endingPort: number;
}

/**
 * The functions of computenetwork.h that hcs-sandbox drives. Ids are GUID
 * strings (`xxxxxxxx-xxxx-...`); an empty string passes `GUID_NULL` (HNS picks).
 * The two notification-callback registrations are declared in
 * `prototypes.ts` but not offered here (nothing needs them yet).
 */
export interface HcnApi {
  /** Whether this Windows build exports `name`. */
  hasFunction(name: string): boolean;

  enumerateNetworks(query: string | null): Promise<HcnStringResult>;
  createNetwork(id: string, settings: string): Promise<HcnHandleResult<HcnNetworkHandle>>;
  openNetwork(id: string): Promise<HcnHandleResult<HcnNetworkHandle>>;
  modifyNetwork(network: HcnNetworkHandle, settings: string): Promise<HcnCallResult>;
  queryNetworkProperties(network: HcnNetworkHandle, query: string | null): Promise<HcnStringResult>;
  deleteNetwork(id: string): Promise<HcnCallResult>;
  closeNetwork(network: HcnNetworkHandle): Promise<HResult>;

  enumerateNamespaces(query: string | null): Promise<HcnStringResult>;
  createNamespace(id: string, settings: string): Promise<HcnHandleResult<HcnNamespaceHandle>>;
  openNamespace(id: string): Promise<HcnHandleResult<HcnNamespaceHandle>>;
  modifyNamespace(namespace: HcnNamespaceHandle, settings: string): Promise<HcnCallResult>;
  queryNamespaceProperties(namespace: HcnNamespaceHandle, query: string | null): Promise<HcnStringResult>;
  deleteNamespace(id: string): Promise<HcnCallResult>;
  closeNamespace(namespace: HcnNamespaceHandle): Promise<HResult>;

  enumerateEndpoints(query: string | null): Promise<HcnStringResult>;
  createEndpoint(
    network: HcnNetworkHandle,
    id: string,
    settings: string,
  ): Promise<HcnHandleResult<HcnEndpointHandle>>;
  openEndpoint(id: string): Promise<HcnHandleResult<HcnEndpointHandle>>;
  modifyEndpoint(endpoint: HcnEndpointHandle, settings: string): Promise<HcnCallResult>;
  queryEndpointProperties(endpoint: HcnEndpointHandle, query: string | null): Promise<HcnStringResult>;
  deleteEndpoint(id: string): Promise<HcnCallResult>;
  closeEndpoint(endpoint: HcnEndpointHandle): Promise<HResult>;

  enumerateLoadBalancers(query: string | null): Promise<HcnStringResult>;
  createLoadBalancer(id: string, settings: string): Promise<HcnHandleResult<HcnLoadBalancerHandle>>;
  openLoadBalancer(id: string): Promise<HcnHandleResult<HcnLoadBalancerHandle>>;
  modifyLoadBalancer(loadBalancer: HcnLoadBalancerHandle, settings: string): Promise<HcnCallResult>;
  queryLoadBalancerProperties(
    loadBalancer: HcnLoadBalancerHandle,
    query: string | null,
  ): Promise<HcnStringResult>;
  deleteLoadBalancer(id: string): Promise<HcnCallResult>;
  closeLoadBalancer(loadBalancer: HcnLoadBalancerHandle): Promise<HResult>;

  createGuestNetworkService(
    id: string,
    settings: string,
  ): Promise<HcnHandleResult<HcnGuestNetworkServiceHandle>>;
  modifyGuestNetworkService(service: HcnGuestNetworkServiceHandle, settings: string): Promise<HcnCallResult>;
  deleteGuestNetworkService(id: string): Promise<HcnCallResult>;
  closeGuestNetworkService(service: HcnGuestNetworkServiceHandle): Promise<HResult>;
  reservePort(
    service: HcnGuestNetworkServiceHandle,
    protocol: number,
    access: number,
    port: number,
  ): Promise<{ hr: HResult; handle: HcnPortReservationHandle | null }>;
  reservePortRange(
    service: HcnGuestNetworkServiceHandle,
    count: number,
  ): Promise<{
    hr: HResult;
    handle: HcnPortReservationHandle | null;
    startingPort: number;
    endingPort: number;
  }>;
  releasePortReservation(handle: HcnPortReservationHandle): Promise<HResult>;
  /** Decoded and released with HcnFreeGuestNetworkPortReservations. */
  enumeratePortReservations(): Promise<{ hr: HResult; entries: HcnPortRangeEntry[] }>;
}
