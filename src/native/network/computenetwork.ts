import type { TypeObject } from 'koffi';
import { type GuidStruct, guidFromStruct, guidStruct } from '../shared/guid.js';
import { koffi, type Pointer } from '../shared/koffi-module.js';
import { computeCoreType } from '../shared/koffi-types.js';
import { LazyLibrary } from '../shared/lazy-library.js';
import { loadSystemLibrary } from '../shared/library.js';
import type { HResult } from '../shared/types.js';
import { COMPUTENETWORK_PROTOTYPES, type ComputeNetworkFunctionName } from './prototypes.js';
import type {
  HcnApi,
  HcnCallResult,
  HcnEndpointHandle,
  HcnGuestNetworkServiceHandle,
  HcnHandleResult,
  HcnLoadBalancerHandle,
  HcnNamespaceHandle,
  HcnNetworkHandle,
  HcnPortRangeEntry,
  HcnPortReservationHandle,
  HcnStringResult,
} from './types.js';

interface NetworkKoffiTypes {
  HCN_GUID: TypeObject;
  HCN_PORT_RANGE_ENTRY: TypeObject;
}

let declared: NetworkKoffiTypes | undefined;

/** The C types computenetwork.h uses, declared once per process (koffi names are global). */
export function networkKoffiTypes(): NetworkKoffiTypes {
  if (declared) return declared;
  computeCoreType('HRESULT');
  const k = koffi();
  const HCN_GUID = k.struct('HCN_GUID', {
    Data1: 'uint32',
    Data2: 'uint16',
    Data3: 'uint16',
    Data4: k.array('uint8', 8),
  });
  for (const name of [
    'HCN_NETWORK',
    'HCN_NAMESPACE',
    'HCN_ENDPOINT',
    'HCN_LOADBALANCER',
    'HCN_GUESTNETWORKSERVICE',
    'HCN_CALLBACK',
  ])
    k.pointer(name, k.opaque(`${name}_`));
  k.proto(
    'void __stdcall HCN_NOTIFICATION_CALLBACK(uint32 NotificationType, void *Context, HRESULT NotificationStatus, const char16_t *NotificationData)',
  );
  k.struct('HCN_PORT_RANGE_RESERVATION', { startingPort: 'uint16', endingPort: 'uint16' });
  // Natural alignment: Protocol@32, 4 bytes padding, Priority@40 ... size 64 (HCS-NOTES §1.4).
  const HCN_PORT_RANGE_ENTRY = k.struct('HCN_PORT_RANGE_ENTRY', {
    OwningPartitionId: HCN_GUID,
    TargetPartitionId: HCN_GUID,
    Protocol: 'int32',
    Priority: 'uint64',
    ReservationType: 'uint32',
    SharingFlags: 'uint32',
    DeliveryMode: 'uint32',
    StartingPort: 'uint16',
    EndingPort: 'uint16',
  });
  declared = { HCN_GUID, HCN_PORT_RANGE_ENTRY };
  return declared;
}

let coTaskMemFree: ((pointer: bigint) => void) | undefined;

/** ole32's CoTaskMemFree: HCN documents it for every string it returns (HCS-NOTES §1.8). */
function freeCoTaskMem(pointer: bigint): void {
  if (!coTaskMemFree) {
    const fn = loadSystemLibrary('ole32.dll').func('void CoTaskMemFree(void *pv)');
    coTaskMemFree = (p) => {
      fn(p);
    };
  }
  coTaskMemFree(pointer);
}

/** Decodes a string HCN allocated and frees it with CoTaskMemFree (also when decoding throws). */
function takeString(pointer: Pointer | undefined): string | null {
  if (!pointer) return null;
  try {
    return koffi().decode.string16(pointer);
  } finally {
    freeCoTaskMem(pointer);
  }
}

/** Takes both out-strings of a call, freeing the second even if the first throws. */
function takeBoth(first: Pointer | undefined, second: Pointer | undefined): [string | null, string | null] {
  let a: string | null;
  try {
    a = takeString(first);
  } catch (error) {
    takeString(second);
    throw error;
  }
  return [a, takeString(second)];
}

function handleOf<H>(pointer: Pointer | undefined): H | null {
  return (pointer ? pointer : null) as H | null;
}

/**
 * computenetwork.dll through koffi. Loaded on first use, never at import; each
 * function bound on its first call, so a build without one fails only the
 * feature that needs it.
 *
 * @see https://learn.microsoft.com/virtualization/api/hcn/reference/hcncreatenetwork
 */
export class KoffiComputeNetwork implements HcnApi {
  readonly #lib = new LazyLibrary<ComputeNetworkFunctionName>(
    'computenetwork.dll',
    COMPUTENETWORK_PROTOTYPES,
  );

  constructor() {
    // The DLL first: on a host without HCN (or not Windows) that fails before koffi loads.
    this.#lib.load();
    networkKoffiTypes();
  }

  hasFunction(name: string): boolean {
    return this.#lib.has(name);
  }

  async #string(name: ComputeNetworkFunctionName, args: unknown[]): Promise<HcnStringResult> {
    const value: [Pointer] = [null];
    const error: [Pointer] = [null];
    const hr = await this.#lib.call<HResult>(name, [...args, value, error]);
    const [text, errorRecord] = takeBoth(value[0], error[0]);
    return { hr, value: text, errorRecord };
  }

  async #plain(name: ComputeNetworkFunctionName, args: unknown[]): Promise<HcnCallResult> {
    const error: [Pointer] = [null];
    const hr = await this.#lib.call<HResult>(name, [...args, error]);
    return { hr, errorRecord: takeString(error[0]) };
  }

  async #handle<H>(name: ComputeNetworkFunctionName, args: unknown[]): Promise<HcnHandleResult<H>> {
    const handle: [Pointer] = [null];
    const error: [Pointer] = [null];
    const hr = await this.#lib.call<HResult>(name, [...args, handle, error]);
    return { hr, handle: handleOf<H>(handle[0]), errorRecord: takeString(error[0]) };
  }

  // Networks
  enumerateNetworks(query: string | null): Promise<HcnStringResult> {
    return this.#string('HcnEnumerateNetworks', [query ?? '']);
  }
  createNetwork(id: string, settings: string): Promise<HcnHandleResult<HcnNetworkHandle>> {
    return this.#handle('HcnCreateNetwork', [guidStruct(id), settings]);
  }
  openNetwork(id: string): Promise<HcnHandleResult<HcnNetworkHandle>> {
    return this.#handle('HcnOpenNetwork', [guidStruct(id)]);
  }
  modifyNetwork(network: HcnNetworkHandle, settings: string): Promise<HcnCallResult> {
    return this.#plain('HcnModifyNetwork', [network, settings]);
  }
  queryNetworkProperties(network: HcnNetworkHandle, query: string | null): Promise<HcnStringResult> {
    return this.#string('HcnQueryNetworkProperties', [network, query ?? '']);
  }
  deleteNetwork(id: string): Promise<HcnCallResult> {
    return this.#plain('HcnDeleteNetwork', [guidStruct(id)]);
  }
  closeNetwork(network: HcnNetworkHandle): Promise<HResult> {
    return this.#lib.call('HcnCloseNetwork', [network]);
  }

  // Namespaces
  enumerateNamespaces(query: string | null): Promise<HcnStringResult> {
    return this.#string('HcnEnumerateNamespaces', [query ?? '']);
  }
  createNamespace(id: string, settings: string): Promise<HcnHandleResult<HcnNamespaceHandle>> {
    return this.#handle('HcnCreateNamespace', [guidStruct(id), settings]);
  }
  openNamespace(id: string): Promise<HcnHandleResult<HcnNamespaceHandle>> {
    return this.#handle('HcnOpenNamespace', [guidStruct(id)]);
  }
  modifyNamespace(namespace: HcnNamespaceHandle, settings: string): Promise<HcnCallResult> {
    return this.#plain('HcnModifyNamespace', [namespace, settings]);
  }
  queryNamespaceProperties(namespace: HcnNamespaceHandle, query: string | null): Promise<HcnStringResult> {
    return this.#string('HcnQueryNamespaceProperties', [namespace, query ?? '']);
  }
  deleteNamespace(id: string): Promise<HcnCallResult> {
    return this.#plain('HcnDeleteNamespace', [guidStruct(id)]);
  }
  closeNamespace(namespace: HcnNamespaceHandle): Promise<HResult> {
    return this.#lib.call('HcnCloseNamespace', [namespace]);
  }

  // Endpoints
  enumerateEndpoints(query: string | null): Promise<HcnStringResult> {
    return this.#string('HcnEnumerateEndpoints', [query ?? '']);
  }
  createEndpoint(
    network: HcnNetworkHandle,
    id: string,
    settings: string,
  ): Promise<HcnHandleResult<HcnEndpointHandle>> {
    return this.#handle('HcnCreateEndpoint', [network, guidStruct(id), settings]);
  }
  openEndpoint(id: string): Promise<HcnHandleResult<HcnEndpointHandle>> {
    return this.#handle('HcnOpenEndpoint', [guidStruct(id)]);
  }
  modifyEndpoint(endpoint: HcnEndpointHandle, settings: string): Promise<HcnCallResult> {
    return this.#plain('HcnModifyEndpoint', [endpoint, settings]);
  }
  queryEndpointProperties(endpoint: HcnEndpointHandle, query: string | null): Promise<HcnStringResult> {
    return this.#string('HcnQueryEndpointProperties', [endpoint, query ?? '']);
  }
  deleteEndpoint(id: string): Promise<HcnCallResult> {
    return this.#plain('HcnDeleteEndpoint', [guidStruct(id)]);
  }
  closeEndpoint(endpoint: HcnEndpointHandle): Promise<HResult> {
    return this.#lib.call('HcnCloseEndpoint', [endpoint]);
  }

  // Load balancers
  enumerateLoadBalancers(query: string | null): Promise<HcnStringResult> {
    return this.#string('HcnEnumerateLoadBalancers', [query ?? '']);
  }
  createLoadBalancer(id: string, settings: string): Promise<HcnHandleResult<HcnLoadBalancerHandle>> {
    return this.#handle('HcnCreateLoadBalancer', [guidStruct(id), settings]);
  }
  openLoadBalancer(id: string): Promise<HcnHandleResult<HcnLoadBalancerHandle>> {
    return this.#handle('HcnOpenLoadBalancer', [guidStruct(id)]);
  }
  modifyLoadBalancer(loadBalancer: HcnLoadBalancerHandle, settings: string): Promise<HcnCallResult> {
    return this.#plain('HcnModifyLoadBalancer', [loadBalancer, settings]);
  }
  queryLoadBalancerProperties(
    loadBalancer: HcnLoadBalancerHandle,
    query: string | null,
  ): Promise<HcnStringResult> {
    return this.#string('HcnQueryLoadBalancerProperties', [loadBalancer, query ?? '']);
  }
  deleteLoadBalancer(id: string): Promise<HcnCallResult> {
    return this.#plain('HcnDeleteLoadBalancer', [guidStruct(id)]);
  }
  closeLoadBalancer(loadBalancer: HcnLoadBalancerHandle): Promise<HResult> {
    return this.#lib.call('HcnCloseLoadBalancer', [loadBalancer]);
  }

  // Guest network services
  createGuestNetworkService(
    id: string,
    settings: string,
  ): Promise<HcnHandleResult<HcnGuestNetworkServiceHandle>> {
    return this.#handle('HcnCreateGuestNetworkService', [guidStruct(id), settings]);
  }
  modifyGuestNetworkService(service: HcnGuestNetworkServiceHandle, settings: string): Promise<HcnCallResult> {
    return this.#plain('HcnModifyGuestNetworkService', [service, settings]);
  }
  deleteGuestNetworkService(id: string): Promise<HcnCallResult> {
    return this.#plain('HcnDeleteGuestNetworkService', [guidStruct(id)]);
  }
  closeGuestNetworkService(service: HcnGuestNetworkServiceHandle): Promise<HResult> {
    return this.#lib.call('HcnCloseGuestNetworkService', [service]);
  }
  async reservePort(
    service: HcnGuestNetworkServiceHandle,
    protocol: number,
    access: number,
    port: number,
  ): Promise<{ hr: HResult; handle: HcnPortReservationHandle | null }> {
    const out: [Pointer] = [null];
    const hr = await this.#lib.call<HResult>('HcnReserveGuestNetworkServicePort', [
      service,
      protocol,
      access,
      port,
      out,
    ]);
    return { hr, handle: handleOf<HcnPortReservationHandle>(out[0]) };
  }
  async reservePortRange(
    service: HcnGuestNetworkServiceHandle,
    count: number,
  ): Promise<{
    hr: HResult;
    handle: HcnPortReservationHandle | null;
    startingPort: number;
    endingPort: number;
  }> {
    const range = [{ startingPort: 0, endingPort: 0 }];
    const out: [Pointer] = [null];
    const hr = await this.#lib.call<HResult>('HcnReserveGuestNetworkServicePortRange', [
      service,
      count,
      range,
      out,
    ]);
    const r = range[0] ?? { startingPort: 0, endingPort: 0 };
    return {
      hr,
      handle: handleOf<HcnPortReservationHandle>(out[0]),
      startingPort: r.startingPort,
      endingPort: r.endingPort,
    };
  }
  releasePortReservation(handle: HcnPortReservationHandle): Promise<HResult> {
    return this.#lib.call('HcnReleaseGuestNetworkServicePortReservationHandle', [handle]);
  }
  async enumeratePortReservations(): Promise<{ hr: HResult; entries: HcnPortRangeEntry[] }> {
    const count: [number] = [0];
    const out: [Pointer] = [null];
    const hr = await this.#lib.call<HResult>('HcnEnumerateGuestNetworkPortReservations', [count, out]);
    const pointer = out[0];
    if (!pointer) return { hr, entries: [] };
    try {
      const raw = koffi().decode(pointer, networkKoffiTypes().HCN_PORT_RANGE_ENTRY, count[0]) as Record<
        string,
        unknown
      >[];
      const entries = raw.map((e) => ({
        owningPartitionId: guidFromStruct(e.OwningPartitionId as GuidStruct),
        targetPartitionId: guidFromStruct(e.TargetPartitionId as GuidStruct),
        protocol: Number(e.Protocol),
        priority: BigInt(e.Priority as number | bigint),
        reservationType: Number(e.ReservationType),
        sharingFlags: Number(e.SharingFlags),
        deliveryMode: Number(e.DeliveryMode),
        startingPort: Number(e.StartingPort),
        endingPort: Number(e.EndingPort),
      }));
      return { hr, entries };
    } finally {
      await this.#lib.call('HcnFreeGuestNetworkPortReservations', [pointer]);
    }
  }
}
