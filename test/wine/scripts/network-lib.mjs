// Shared helpers of the network Wine scripts: the product's network layer from
// dist/, the raw HCN bindings (to make "foreign" objects as Docker or WSL would),
// and the simulated computenetwork.dll's test-only control export.
import { simControl } from './lib.mjs';

export const network = await import('../../../dist/network/index.js');
export const native = await import('../../../dist/native/index.js');

/** Sends a request to HcsSimNetworkControl (test-only export of the simulated computenetwork.dll). */
export const networkSim = simControl('computenetwork.dll', 'HcsSimNetworkControl', {
  dll: 'ole32.dll',
  name: 'CoTaskMemFree',
});

/** The simulated HCN's whole state (networks, endpoints, namespaces...). */
export function hcnState() {
  return networkSim({ Op: 'State' });
}

/** A short summary of the state for assertions. */
export function scan() {
  const s = hcnState();
  return {
    networks: s.Networks.map((n) => n.Name),
    endpoints: s.Endpoints.map((e) => e.Name),
    namespaces: s.Namespaces.length,
  };
}

/** Creates a network as another tool would (random id, its own name). */
export async function foreignNetwork(name, subnet, type = 'NAT') {
  const client = new network.HcnClient();
  const id = crypto.randomUUID();
  await client.createNetwork(id, {
    SchemaVersion: { Major: 2, Minor: 0 },
    Name: name,
    Type: type,
    Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: subnet }] }],
  });
  return id;
}

/** Creates an endpoint as another tool would. */
export async function foreignEndpoint(networkId, name, extra = {}) {
  const client = new network.HcnClient();
  const id = crypto.randomUUID();
  await client.createEndpoint(networkId, id, {
    SchemaVersion: { Major: 2, Minor: 0 },
    Name: name,
    HostComputeNetwork: networkId,
    ...extra,
  });
  return id;
}

/** Errors as plain data for the Linux-side assertions. */
export async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return {
      name: error?.name,
      code: error?.code,
      message: error?.message,
      hresultName: error?.hresultName,
      hint: error?.hint,
    };
  }
}
