import {
  createEndpoint,
  createSandboxNamespace,
  type DnsOptions,
  deleteEndpoint,
  deleteSandboxNamespace,
  endpointName,
  formatPortMapping,
  HcnClient,
  type NetworkMode,
  ownedId,
  type PortMapping,
  parsePortMapping,
  type SandboxNetworkOptions,
  stableMacAddress,
} from '../network/index.js';
import { type UndoStack, withUndo } from '../storage/index.js';
import type { NormalisedOptions } from './options.js';
import type { SandboxRecord, StoredOptions } from './record.js';

type StoredNetwork = Pick<
  StoredOptions,
  'network' | 'namespaceId' | 'ports' | 'networkName' | 'allow' | 'dns'
>;

/** What one sandbox's endpoint is made from: the same at create and when start rebuilds it. */
interface EndpointRequest {
  mode: Exclude<NetworkMode, 'none'>;
  networkName: string | undefined;
  ports: readonly PortMapping[];
  allow: readonly string[];
  dns: DnsOptions | undefined;
  persistent: boolean;
}

/** Creates the endpoint and the namespace holding it; each is undone by `undo` if a later step fails. */
async function createEndpointAndNamespace(
  id: string,
  name: string,
  r: EndpointRequest,
  undo: UndoStack,
): Promise<string> {
  const options: SandboxNetworkOptions = {
    sandboxId: id,
    mode: r.mode,
    ...(r.networkName !== undefined && { network: r.networkName }),
    ports: r.ports,
    allow: r.allow,
    ...(r.dns !== undefined && { dns: r.dns }),
    persistent: r.persistent,
    ...(r.persistent && { macAddress: stableMacAddress(name) }),
  };
  await createEndpoint(options);
  undo.push('network endpoint', async () => {
    await deleteEndpoint(id);
  });
  const namespaceId = await createSandboxNamespace(id);
  undo.push('network namespace', () => deleteSandboxNamespace(id));
  return namespaceId;
}

/**
 * A sandbox's network, the same for every isolation: one HCN endpoint on the
 * mode's network and one namespace holding it, both named after the compute
 * system id so `gc` can find them. The record keeps what made the endpoint
 * (network name, allow, dns) so `start` can make it again.
 */
export async function createSandboxNetwork(
  id: string,
  name: string,
  o: NormalisedOptions,
  undo: UndoStack,
): Promise<StoredNetwork> {
  if (o.network === 'none') return { network: 'none' };
  const namespaceId = await createEndpointAndNamespace(id, name, { ...o, mode: o.network }, undo);
  return {
    network: o.network,
    namespaceId,
    ...(o.ports.length > 0 && { ports: o.ports.map(formatPortMapping) }),
    ...(o.networkName !== undefined && { networkName: o.networkName }),
    ...(o.allow.length > 0 && { allow: [...o.allow] }),
    ...(o.dns !== undefined && {
      dns: {
        ...(o.dns.servers && { servers: [...o.dns.servers] }),
        ...(o.dns.search && { search: [...o.dns.search] }),
      },
    }),
  };
}

/**
 * The namespace a (re)starting sandbox joins, with its endpoint, made again if
 * a host restart took them: compute systems never survive one, and the default
 * network is created with EnableNonPersistent, so it goes too, with every
 * endpoint on it (REAL-WINDOWS-AUDIT row 11). Undefined for network `none`.
 * Whatever is left of a half-gone pair is removed first; `createEndpoint`
 * recreates a missing default network. Returns the namespace id to store.
 */
export async function ensureSandboxNetwork(record: SandboxRecord): Promise<string | undefined> {
  const o = record.options;
  const mode = o.network as NetworkMode | undefined;
  if (mode === undefined || mode === 'none') return undefined;
  const client = new HcnClient();
  const endpointId = ownedId('endpoint', endpointName(record.id));
  const namespaceId = ownedId('namespace', endpointName(record.id));
  const endpoint = await client.endpoint(endpointId);
  const namespace = endpoint ? await client.namespace(namespaceId) : undefined;
  if (namespace && endpoint?.HostComputeNamespace?.toLowerCase() === namespaceId.toLowerCase())
    return namespaceId;
  await removeSandboxNetwork(record);
  const request: EndpointRequest = {
    mode,
    networkName: o.networkName,
    ports: (o.ports ?? []).map((p, i) => parsePortMapping(p, `record.options.ports[${i}]`)),
    allow: o.allow ?? [],
    dns: o.dns,
    persistent: record.persistent,
  };
  return withUndo((undo) => createEndpointAndNamespace(record.id, record.name, request, undo));
}

/** Removes the sandbox's namespace and endpoint (nothing when it has no network). */
export async function removeSandboxNetwork(record: SandboxRecord): Promise<void> {
  if (record.options.network === 'none') return;
  await deleteSandboxNamespace(record.id);
  await deleteEndpoint(record.id);
}
