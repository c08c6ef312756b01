import type { Prototype } from '../shared/lazy-library.js';

/**
 * Every function of computenetwork.dll (the Host Compute Network API), as koffi
 * prototypes transcribed from the SDK's computenetwork.h (checked against the
 * header by test/unit/network/prototypes.test.ts). Conventions:
 * `const char16_t *` for PCWSTR; `_Out_ void **` for every returned string
 * (`Networks`, `Properties`, `ErrorRecord`...) so we keep the pointer and free
 * it with CoTaskMemFree, as the HCN pages say; `const HCN_GUID *` for REFGUID
 * (a pointer to the 16-byte GUID struct of `computenetwork.ts`); HCN
 * handles are opaque pointer types. All HRESULT calls are synchronous RPCs
 * into the Host Network Service and run on koffi's worker pool.
 *
 * All functions are Windows 10 1809 / Server 2019 on Microsoft's pages.
 */
export const COMPUTENETWORK_PROTOTYPES = {
  // Networks
  HcnEnumerateNetworks: {
    signature:
      'HRESULT HcnEnumerateNetworks(const char16_t *Query, _Out_ void **Networks, _Out_ void **ErrorRecord)',
  },
  HcnCreateNetwork: {
    signature:
      'HRESULT HcnCreateNetwork(const HCN_GUID *Id, const char16_t *Settings, _Out_ HCN_NETWORK *Network, _Out_ void **ErrorRecord)',
  },
  HcnOpenNetwork: {
    signature:
      'HRESULT HcnOpenNetwork(const HCN_GUID *Id, _Out_ HCN_NETWORK *Network, _Out_ void **ErrorRecord)',
  },
  HcnModifyNetwork: {
    signature:
      'HRESULT HcnModifyNetwork(HCN_NETWORK Network, const char16_t *Settings, _Out_ void **ErrorRecord)',
  },
  HcnQueryNetworkProperties: {
    signature:
      'HRESULT HcnQueryNetworkProperties(HCN_NETWORK Network, const char16_t *Query, _Out_ void **Properties, _Out_ void **ErrorRecord)',
  },
  HcnDeleteNetwork: { signature: 'HRESULT HcnDeleteNetwork(const HCN_GUID *Id, _Out_ void **ErrorRecord)' },
  HcnCloseNetwork: { signature: 'HRESULT HcnCloseNetwork(HCN_NETWORK Network)' },
  // Namespaces
  HcnEnumerateNamespaces: {
    signature:
      'HRESULT HcnEnumerateNamespaces(const char16_t *Query, _Out_ void **Namespaces, _Out_ void **ErrorRecord)',
  },
  HcnCreateNamespace: {
    signature:
      'HRESULT HcnCreateNamespace(const HCN_GUID *Id, const char16_t *Settings, _Out_ HCN_NAMESPACE *Namespace, _Out_ void **ErrorRecord)',
  },
  HcnOpenNamespace: {
    signature:
      'HRESULT HcnOpenNamespace(const HCN_GUID *Id, _Out_ HCN_NAMESPACE *Namespace, _Out_ void **ErrorRecord)',
  },
  HcnModifyNamespace: {
    signature:
      'HRESULT HcnModifyNamespace(HCN_NAMESPACE Namespace, const char16_t *Settings, _Out_ void **ErrorRecord)',
  },
  HcnQueryNamespaceProperties: {
    signature:
      'HRESULT HcnQueryNamespaceProperties(HCN_NAMESPACE Namespace, const char16_t *Query, _Out_ void **Properties, _Out_ void **ErrorRecord)',
  },
  HcnDeleteNamespace: {
    signature: 'HRESULT HcnDeleteNamespace(const HCN_GUID *Id, _Out_ void **ErrorRecord)',
  },
  HcnCloseNamespace: { signature: 'HRESULT HcnCloseNamespace(HCN_NAMESPACE Namespace)' },
  // Endpoints
  HcnEnumerateEndpoints: {
    signature:
      'HRESULT HcnEnumerateEndpoints(const char16_t *Query, _Out_ void **Endpoints, _Out_ void **ErrorRecord)',
  },
  HcnCreateEndpoint: {
    signature:
      'HRESULT HcnCreateEndpoint(HCN_NETWORK Network, const HCN_GUID *Id, const char16_t *Settings, _Out_ HCN_ENDPOINT *Endpoint, _Out_ void **ErrorRecord)',
  },
  HcnOpenEndpoint: {
    signature:
      'HRESULT HcnOpenEndpoint(const HCN_GUID *Id, _Out_ HCN_ENDPOINT *Endpoint, _Out_ void **ErrorRecord)',
  },
  HcnModifyEndpoint: {
    signature:
      'HRESULT HcnModifyEndpoint(HCN_ENDPOINT Endpoint, const char16_t *Settings, _Out_ void **ErrorRecord)',
  },
  HcnQueryEndpointProperties: {
    signature:
      'HRESULT HcnQueryEndpointProperties(HCN_ENDPOINT Endpoint, const char16_t *Query, _Out_ void **Properties, _Out_ void **ErrorRecord)',
  },
  HcnDeleteEndpoint: { signature: 'HRESULT HcnDeleteEndpoint(const HCN_GUID *Id, _Out_ void **ErrorRecord)' },
  HcnCloseEndpoint: { signature: 'HRESULT HcnCloseEndpoint(HCN_ENDPOINT Endpoint)' },
  // Load balancers
  HcnEnumerateLoadBalancers: {
    signature:
      'HRESULT HcnEnumerateLoadBalancers(const char16_t *Query, _Out_ void **LoadBalancer, _Out_ void **ErrorRecord)',
  },
  HcnCreateLoadBalancer: {
    signature:
      'HRESULT HcnCreateLoadBalancer(const HCN_GUID *Id, const char16_t *Settings, _Out_ HCN_LOADBALANCER *LoadBalancer, _Out_ void **ErrorRecord)',
  },
  HcnOpenLoadBalancer: {
    signature:
      'HRESULT HcnOpenLoadBalancer(const HCN_GUID *Id, _Out_ HCN_LOADBALANCER *LoadBalancer, _Out_ void **ErrorRecord)',
  },
  HcnModifyLoadBalancer: {
    signature:
      'HRESULT HcnModifyLoadBalancer(HCN_LOADBALANCER LoadBalancer, const char16_t *Settings, _Out_ void **ErrorRecord)',
  },
  HcnQueryLoadBalancerProperties: {
    signature:
      'HRESULT HcnQueryLoadBalancerProperties(HCN_LOADBALANCER LoadBalancer, const char16_t *Query, _Out_ void **Properties, _Out_ void **ErrorRecord)',
  },
  HcnDeleteLoadBalancer: {
    signature: 'HRESULT HcnDeleteLoadBalancer(const HCN_GUID *Id, _Out_ void **ErrorRecord)',
  },
  HcnCloseLoadBalancer: { signature: 'HRESULT HcnCloseLoadBalancer(HCN_LOADBALANCER LoadBalancer)' },
  // Service notifications
  HcnRegisterServiceCallback: {
    signature:
      'HRESULT HcnRegisterServiceCallback(HCN_NOTIFICATION_CALLBACK *Callback, void *Context, _Out_ HCN_CALLBACK *CallbackHandle)',
  },
  HcnUnregisterServiceCallback: {
    signature: 'HRESULT HcnUnregisterServiceCallback(HCN_CALLBACK CallbackHandle)',
  },
  // Guest network services and port reservations
  HcnRegisterGuestNetworkServiceCallback: {
    signature:
      'HRESULT HcnRegisterGuestNetworkServiceCallback(HCN_GUESTNETWORKSERVICE GuestNetworkService, HCN_NOTIFICATION_CALLBACK *Callback, void *Context, _Out_ HCN_CALLBACK *CallbackHandle)',
  },
  HcnUnregisterGuestNetworkServiceCallback: {
    signature: 'HRESULT HcnUnregisterGuestNetworkServiceCallback(HCN_CALLBACK CallbackHandle)',
  },
  HcnCreateGuestNetworkService: {
    signature:
      'HRESULT HcnCreateGuestNetworkService(const HCN_GUID *Id, const char16_t *Settings, _Out_ HCN_GUESTNETWORKSERVICE *GuestNetworkService, _Out_ void **ErrorRecord)',
  },
  HcnCloseGuestNetworkService: {
    signature: 'HRESULT HcnCloseGuestNetworkService(HCN_GUESTNETWORKSERVICE GuestNetworkService)',
  },
  HcnModifyGuestNetworkService: {
    signature:
      'HRESULT HcnModifyGuestNetworkService(HCN_GUESTNETWORKSERVICE GuestNetworkService, const char16_t *Settings, _Out_ void **ErrorRecord)',
  },
  HcnDeleteGuestNetworkService: {
    signature: 'HRESULT HcnDeleteGuestNetworkService(const HCN_GUID *Id, _Out_ void **ErrorRecord)',
  },
  HcnReserveGuestNetworkServicePort: {
    signature:
      'HRESULT HcnReserveGuestNetworkServicePort(HCN_GUESTNETWORKSERVICE GuestNetworkService, int32 Protocol, int32 Access, uint16 Port, _Out_ void **PortReservationHandle)',
  },
  HcnReserveGuestNetworkServicePortRange: {
    signature:
      'HRESULT HcnReserveGuestNetworkServicePortRange(HCN_GUESTNETWORKSERVICE GuestNetworkService, uint16 PortCount, _Out_ HCN_PORT_RANGE_RESERVATION *PortRangeReservation, _Out_ void **PortReservationHandle)',
  },
  HcnReleaseGuestNetworkServicePortReservationHandle: {
    signature: 'HRESULT HcnReleaseGuestNetworkServicePortReservationHandle(void *PortReservationHandle)',
  },
  HcnEnumerateGuestNetworkPortReservations: {
    signature:
      'HRESULT HcnEnumerateGuestNetworkPortReservations(_Out_ uint32 *ReturnCount, _Out_ void **PortEntries)',
  },
  HcnFreeGuestNetworkPortReservations: {
    signature: 'void HcnFreeGuestNetworkPortReservations(void *PortEntries)',
  },
} as const satisfies Record<string, Prototype>;

export type ComputeNetworkFunctionName = keyof typeof COMPUTENETWORK_PROTOTYPES;
