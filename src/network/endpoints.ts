import { networkInterfaces } from 'node:os';
import { InvalidArgumentError } from '../internal/errors.js';
import { gatewayOf, parseCidr } from './address.js';
import type { HcnClient } from './client.js';
import { client, type NetworkDeps } from './deps.js';
import {
  type DnsOptions,
  type EndpointMode,
  endpointDocument,
  namespaceEndpointRequest,
} from './documents.js';
import { HcnError } from './errors.js';
import { endpointName, isOwned, ownedId, sandboxIdOfEndpoint, stableMacAddress } from './identity.js';
import { type EndpointInfo, portMappingsOf, toEndpointInfo } from './info.js';
import { ensureNetwork } from './networks.js';
import { checkPortsAvailable, probeHostPort } from './port-check.js';
import { formatPortMapping, type PortMapping } from './ports.js';

export type NetworkMode = 'none' | EndpointMode;
export const NETWORK_MODES: readonly NetworkMode[] = ['none', 'nat', 'isolated', 'internal'];

export interface SandboxNetworkOptions {
  sandboxId: string;
  mode: NetworkMode;
  /** An existing network to join (by name or id), else the mode's default. */
  network?: string;
  ports?: readonly PortMapping[];
  /** isolated: CIDRs to allow despite the block rules. */
  allow?: readonly string[];
  dns?: DnsOptions;
  /** Persistent sandboxes keep a MAC derived from their name. */
  persistent?: boolean;
  /** An explicit MAC (overrides the stable one). */
  macAddress?: string;
}

function defaultHostAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(`${a.address}/32`);
  return out;
}

/** Every port published by one of our endpoints, for the conflict check. */
async function publishedPorts(c: HcnClient): Promise<{ mapping: PortMapping; by: string }[]> {
  const out: { mapping: PortMapping; by: string }[] = [];
  for (const e of await c.endpoints())
    for (const mapping of portMappingsOf(e))
      out.push({
        mapping,
        by: isOwned('endpoint', e)
          ? `sandbox ${sandboxIdOfEndpoint(e.Name ?? '')}`
          : `endpoint ${e.Name ?? e.ID}`,
      });
  return out;
}

/**
 * Creates the endpoint of one sandbox (none for mode `none`). Everything that
 * can be checked is checked first (inputs, host ports); then the network is
 * ensured and the endpoint created. A failure halfway deletes what this call
 * created, in reverse order.
 */
export async function createEndpoint(
  options: SandboxNetworkOptions,
  deps?: NetworkDeps,
): Promise<EndpointInfo | null> {
  if (!NETWORK_MODES.includes(options.mode))
    throw new InvalidArgumentError('mode', NETWORK_MODES.join(', '), options.mode);
  if (options.mode === 'none') {
    if (options.ports?.length)
      throw new InvalidArgumentError(
        'ports',
        'no published ports with network mode none',
        options.ports.map(formatPortMapping),
      );
    return null;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/.test(options.sandboxId))
    throw new InvalidArgumentError('sandboxId', 'letters, digits, ".", "_" and "-"', options.sandboxId);
  const c = client(deps);
  const name = endpointName(options.sandboxId);
  const id = ownedId('endpoint', name);
  const mode = options.mode;
  const mac = options.macAddress ?? (options.persistent ? stableMacAddress(options.sandboxId) : undefined);
  // 1. Validate the document with a placeholder network id: bad input fails before any HCN call.
  endpointDocument({
    mode,
    name,
    networkId: '00000000-0000-0000-0000-000000000000',
    ...(options.ports ? { ports: options.ports } : {}),
    ...(options.allow ? { allow: options.allow } : {}),
    ...(options.dns ? { dns: options.dns } : {}),
    ...(mac ? { macAddress: mac } : {}),
  });
  if (await c.endpoint(id))
    throw new InvalidArgumentError(
      'sandboxId',
      'a sandbox without an endpoint (run gc if it is a leftover)',
      options.sandboxId,
      'it already has one',
    );
  // 2. Host ports, before anything is created.
  if (options.ports?.length)
    await checkPortsAvailable(options.ports, await publishedPorts(c), deps?.probe ?? probeHostPort);
  // 3. Network, then endpoint; undo in reverse on failure.
  const undo: (() => Promise<void>)[] = [];
  try {
    const { network, created } = await ensureNetwork(
      { mode, ...(options.network ? { network: options.network } : {}) },
      deps,
    );
    if (created) undo.push(() => c.deleteNetwork(network.id));
    const doc = endpointDocument({
      mode,
      name,
      networkId: network.id,
      ...(options.ports ? { ports: options.ports } : {}),
      ...(options.allow ? { allow: options.allow } : {}),
      ...(options.dns ? { dns: options.dns } : {}),
      ...(mac ? { macAddress: mac } : {}),
      ...(mode === 'isolated' ? { hostAddresses: deps?.hostAddresses ?? defaultHostAddresses() } : {}),
      ...(network.gateway
        ? { gateway: network.gateway }
        : network.subnet
          ? { gateway: gatewayOf(parseCidr(network.subnet, 'subnet', { loose: true })) }
          : {}),
    });
    const props = await c.createEndpoint(network.id, id, doc);
    return toEndpointInfo(props, network);
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
}

/** Deletes a sandbox's endpoint (detaching it from its namespace first); a missing one is fine. */
export async function deleteEndpoint(sandboxId: string, deps?: NetworkDeps): Promise<boolean> {
  const c = client(deps);
  const id = ownedId('endpoint', endpointName(sandboxId));
  const props = await c.endpoint(id);
  if (!props) return false;
  if (props.HostComputeNamespace) {
    await c.modifyNamespace(props.HostComputeNamespace, namespaceEndpointRequest('Remove', id)).catch((e) => {
      if (!(e instanceof HcnError && (e.isNotFound() || e.hresult === 0x803b0034))) throw e;
    });
  }
  try {
    await c.deleteEndpoint(id);
  } catch (error) {
    if (error instanceof HcnError && error.isNotFound()) return false;
    throw error;
  }
  return true;
}

export { sandboxEndpoint } from './sandbox-endpoint.js';
