/**
 * The modify requests that give a running utility VM the network of the
 * container it hosts, in the order hcsshim sends them (`internal/uvm/network.go`):
 * `AddNetNS` adds the HCN namespace to the guest (a guest-only `NetworkNamespace`
 * request), then `addNIC` per endpoint: a guest-only `Network` request whose
 * inner `RequestType` is `PreAdd`, then the host's
 * `VirtualMachine/Devices/NetworkAdapters/{nicId}` Add carrying
 * `{EndpointId, MacAddress}` together with the guest's `Network` Add.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type * as Hcs from '../generated/hcs.js';
import { checkGuid, checkMac, checkObject } from './common.js';
import { type ModifySettingRequestDocument, RESOURCE_PATHS } from './modify.js';

/**
 * hcsshim's `guestrequest.NetworkModifyRequest` (RS5 and later, the builds this
 * project supports; RS4 named the id `AdapterInstanceId`).
 */
export interface GuestNetworkModifyRequest {
  AdapterId: string;
  RequestType: 'PreAdd' | 'Add' | 'Remove';
  /** The HCN endpoint for `PreAdd`; nothing for `Add` (Go's `omitempty` drops it). */
  Settings?: Record<string, unknown>;
}

/** An HCN object as `HcnQuery*Properties` returns it: only `ID` is required here. */
export type HcnDocument = { ID: string; [field: string]: unknown };

function checkHcnDocument(field: string, value: unknown): HcnDocument {
  checkObject(field, value);
  checkGuid(`${field}.ID`, (value as { ID?: unknown }).ID);
  return value as HcnDocument;
}

/**
 * Adds the HCN namespace to the guest (hcsshim `AddNetNS`): the namespace
 * document goes to the guest as HCN returned it.
 */
export function addGuestNetworkNamespaceRequest(namespace: HcnDocument): ModifySettingRequestDocument<never> {
  const settings = checkHcnDocument('namespace', namespace);
  return { GuestRequest: { ResourceType: 'NetworkNamespace', RequestType: 'Add', Settings: settings } };
}

export interface UtilityVmNicInput {
  /** The adapter's id, a fresh GUID per NIC (hcsshim: `guid.NewV4()`); the `NetworkAdapters` key. */
  nicId: string;
  /** The HCN endpoint as HCN returned it (`ID`, `MacAddress`, IP configuration, ...). */
  endpoint: HcnDocument;
}

/**
 * The two requests that plug an HCN endpoint into a running utility VM
 * (hcsshim `addNIC`): the guest's PreAdd, then the host adapter with the
 * guest's Add. Send them in order, after {@link addGuestNetworkNamespaceRequest}.
 */
export function utilityVmNicRequests(
  input: UtilityVmNicInput,
): [ModifySettingRequestDocument<never>, ModifySettingRequestDocument<Hcs.NetworkAdapter>] {
  checkObject('options', input);
  const nicId = checkGuid('nicId', input.nicId);
  const endpoint = checkHcnDocument('endpoint', input.endpoint);
  if (endpoint.MacAddress === undefined) {
    throw new InvalidArgumentError('endpoint.MacAddress', 'the MAC address HCN gave the endpoint', undefined);
  }
  const macAddress = checkMac('endpoint.MacAddress', endpoint.MacAddress);
  const guest = (RequestType: 'PreAdd' | 'Add', Settings?: HcnDocument) => ({
    ResourceType: 'Network' as const,
    RequestType: 'Add' as const,
    Settings: {
      AdapterId: nicId,
      RequestType,
      ...(Settings && { Settings }),
    } satisfies GuestNetworkModifyRequest,
  });
  return [
    { GuestRequest: guest('PreAdd', endpoint) },
    {
      ResourcePath: RESOURCE_PATHS.vmNetworkAdapter(nicId),
      RequestType: 'Add',
      Settings: { EndpointId: endpoint.ID, MacAddress: macAddress },
      GuestRequest: guest('Add'),
    },
  ];
}
