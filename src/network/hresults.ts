/**
 * HCN_E_* (Microsoft's "HCN HRESULT" reference page, hcn/Reference/HCNHResult.md)
 * and the Win32/RPC codes HCN callers meet when the Host Network Service is
 * not usable. Values are unsigned 32-bit.
 */
export const HCN_HRESULTS: ReadonlyMap<number, { name: string; meaning: string }> = new Map([
  [0x803b0001, { name: 'HCN_E_NETWORK_NOT_FOUND', meaning: 'the network was not found' }],
  [0x803b0002, { name: 'HCN_E_ENDPOINT_NOT_FOUND', meaning: 'the endpoint was not found' }],
  [0x803b0003, { name: 'HCN_E_LAYER_NOT_FOUND', meaning: 'the network layer was not found' }],
  [0x803b0004, { name: 'HCN_E_SWITCH_NOT_FOUND', meaning: 'the virtual switch was not found' }],
  [0x803b0005, { name: 'HCN_E_SUBNET_NOT_FOUND', meaning: 'the subnet was not found' }],
  [0x803b0006, { name: 'HCN_E_ADAPTER_NOT_FOUND', meaning: 'the network adapter was not found' }],
  [0x803b0007, { name: 'HCN_E_PORT_NOT_FOUND', meaning: 'the switch port was not found' }],
  [0x803b0008, { name: 'HCN_E_POLICY_NOT_FOUND', meaning: 'the policy was not found' }],
  [0x803b0009, { name: 'HCN_E_VFP_PORTSETTING_NOT_FOUND', meaning: 'the VFP port setting was not found' }],
  [0x803b000a, { name: 'HCN_E_INVALID_NETWORK', meaning: 'the network is invalid' }],
  [0x803b000b, { name: 'HCN_E_INVALID_NETWORK_TYPE', meaning: 'the network type is invalid' }],
  [0x803b000c, { name: 'HCN_E_INVALID_ENDPOINT', meaning: 'the endpoint is invalid' }],
  [0x803b000d, { name: 'HCN_E_INVALID_POLICY', meaning: 'a policy is invalid' }],
  [0x803b000e, { name: 'HCN_E_INVALID_POLICY_TYPE', meaning: 'a policy type is invalid' }],
  [
    0x803b000f,
    { name: 'HCN_E_INVALID_REMOTE_ENDPOINT_OPERATION', meaning: 'invalid operation on a remote endpoint' },
  ],
  [0x803b0010, { name: 'HCN_E_NETWORK_ALREADY_EXISTS', meaning: 'the network already exists' }],
  [0x803b0011, { name: 'HCN_E_LAYER_ALREADY_EXISTS', meaning: 'the layer already exists' }],
  [0x803b0012, { name: 'HCN_E_POLICY_ALREADY_EXISTS', meaning: 'the policy already exists' }],
  [0x803b0013, { name: 'HCN_E_PORT_ALREADY_EXISTS', meaning: 'the port is already mapped' }],
  [0x803b0014, { name: 'HCN_E_ENDPOINT_ALREADY_ATTACHED', meaning: 'the endpoint is already attached' }],
  [0x803b0015, { name: 'HCN_E_REQUEST_UNSUPPORTED', meaning: 'the request is not supported' }],
  [
    0x803b0016,
    { name: 'HCN_E_MAPPING_NOT_SUPPORTED', meaning: 'port mapping is not supported on this network' },
  ],
  [0x803b0017, { name: 'HCN_E_DEGRADED_OPERATION', meaning: 'the operation completed in a degraded state' }],
  [0x803b0018, { name: 'HCN_E_SHARED_SWITCH_MODIFICATION', meaning: 'a shared switch cannot be modified' }],
  [0x803b0019, { name: 'HCN_E_GUID_CONVERSION_FAILURE', meaning: 'a GUID could not be converted' }],
  [0x803b001a, { name: 'HCN_E_REGKEY_FAILURE', meaning: 'a registry operation failed' }],
  [0x803b001b, { name: 'HCN_E_INVALID_JSON', meaning: 'the JSON document is invalid' }],
  [
    0x803b001c,
    { name: 'HCN_E_INVALID_JSON_REFERENCE', meaning: 'the JSON document references something invalid' },
  ],
  [0x803b001d, { name: 'HCN_E_ENDPOINT_SHARING_DISABLED', meaning: 'endpoint sharing is disabled' }],
  [0x803b001e, { name: 'HCN_E_INVALID_IP', meaning: 'an IP address is invalid' }],
  [0x803b001f, { name: 'HCN_E_SWITCH_EXTENSION_NOT_FOUND', meaning: 'the switch extension was not found' }],
  [0x803b0020, { name: 'HCN_E_MANAGER_STOPPED', meaning: 'the Host Network Service is stopping or stopped' }],
  [0x803b0021, { name: 'GCN_E_MODULE_NOT_FOUND', meaning: 'guest network module not found' }],
  [0x803b0022, { name: 'GCN_E_NO_REQUEST_HANDLERS', meaning: 'no guest network request handlers' }],
  [0x803b0023, { name: 'GCN_E_REQUEST_UNSUPPORTED', meaning: 'the guest network request is not supported' }],
  [0x803b0024, { name: 'GCN_E_RUNTIMEKEYS_FAILED', meaning: 'guest network runtime keys failed' }],
  [0x803b0025, { name: 'GCN_E_NETADAPTER_TIMEOUT', meaning: 'the guest network adapter timed out' }],
  [0x803b0026, { name: 'GCN_E_NETADAPTER_NOT_FOUND', meaning: 'the guest network adapter was not found' }],
  [
    0x803b0027,
    { name: 'GCN_E_NETCOMPARTMENT_NOT_FOUND', meaning: 'the guest network compartment was not found' },
  ],
  [
    0x803b0028,
    { name: 'GCN_E_NETINTERFACE_NOT_FOUND', meaning: 'the guest network interface was not found' },
  ],
  [
    0x803b0029,
    { name: 'GCN_E_DEFAULTNAMESPACE_EXISTS', meaning: 'the default guest namespace already exists' },
  ],
  [0x803b002a, { name: 'HCN_E_ICS_DISABLED', meaning: 'Internet Connection Sharing is disabled' }],
  [0x803b002b, { name: 'HCN_E_ENDPOINT_NAMESPACE_ALREADY_EXISTS', meaning: 'the namespace already exists' }],
  [0x803b002c, { name: 'HCN_E_ENTITY_HAS_REFERENCES', meaning: 'the object is still in use' }],
  [0x803b002d, { name: 'HCN_E_INVALID_INTERNAL_PORT', meaning: 'the internal port is invalid' }],
  [0x803b002e, { name: 'HCN_E_NAMESPACE_ATTACH_FAILED', meaning: 'attaching to the namespace failed' }],
  [0x803b002f, { name: 'HCN_E_ADDR_INVALID_OR_RESERVED', meaning: 'the address is invalid or reserved' }],
  [0x803b0030, { name: 'HCN_E_INVALID_PREFIX', meaning: 'the address prefix is invalid' }],
  [0x803b0031, { name: 'HCN_E_OBJECT_USED_AFTER_UNLOAD', meaning: 'an object was used after unload' }],
  [0x803b0032, { name: 'HCN_E_INVALID_SUBNET', meaning: 'the subnet is invalid or overlaps another' }],
  [0x803b0033, { name: 'HCN_E_INVALID_IP_SUBNET', meaning: 'the IP subnet is invalid' }],
  [0x803b0034, { name: 'HCN_E_ENDPOINT_NOT_ATTACHED', meaning: 'the endpoint is not attached' }],
  [0x803b0035, { name: 'HCN_E_ENDPOINT_NOT_LOCAL', meaning: 'the endpoint is not local' }],
  [
    0x803b0036,
    {
      name: 'HCN_INTERFACEPARAMETERS_ALREADY_APPLIED',
      meaning: 'the interface parameters are already applied',
    },
  ],
  [0x803b0037, { name: 'HCN_E_VFP_NOT_ALLOWED', meaning: 'VFP is not allowed' }],
  [0x80070005, { name: 'E_ACCESSDENIED', meaning: 'access denied' }],
  [0x80070490, { name: 'ERROR_NOT_FOUND', meaning: 'element not found' }],
  [0x80070426, { name: 'ERROR_SERVICE_NOT_ACTIVE', meaning: 'the service has not been started' }],
  [0x800706ba, { name: 'RPC_S_SERVER_UNAVAILABLE', meaning: 'the RPC server is unavailable' }],
  [0x800706d9, { name: 'EPT_S_NOT_REGISTERED', meaning: 'no endpoints available from the endpoint mapper' }],
  [0x80070006, { name: 'E_HANDLE', meaning: 'invalid handle' }],
  [0x80004001, { name: 'E_NOTIMPL', meaning: 'not implemented' }],
  [0x80004005, { name: 'E_FAIL', meaning: 'unspecified failure' }],
  [0x80070057, { name: 'E_INVALIDARG', meaning: 'invalid argument' }],
]);

export const HCN = {
  NETWORK_NOT_FOUND: 0x803b0001,
  ENDPOINT_NOT_FOUND: 0x803b0002,
  NETWORK_ALREADY_EXISTS: 0x803b0010,
  PORT_ALREADY_EXISTS: 0x803b0013,
  ENDPOINT_ALREADY_ATTACHED: 0x803b0014,
  MANAGER_STOPPED: 0x803b0020,
  ENTITY_HAS_REFERENCES: 0x803b002c,
  ENDPOINT_NOT_ATTACHED: 0x803b0034,
  E_ACCESSDENIED: 0x80070005,
  ERROR_NOT_FOUND: 0x80070490,
  ERROR_SERVICE_NOT_ACTIVE: 0x80070426,
  RPC_S_SERVER_UNAVAILABLE: 0x800706ba,
  EPT_S_NOT_REGISTERED: 0x800706d9,
} as const;

export function hcnHresultName(hr: number): string {
  return (
    HCN_HRESULTS.get(hr >>> 0)?.name ?? `HRESULT 0x${(hr >>> 0).toString(16).toUpperCase().padStart(8, '0')}`
  );
}

export function hcnHresultHex(hr: number): string {
  return `0x${(hr >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}
