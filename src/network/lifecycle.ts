import { networkInterfaces } from 'node:os';
import { InvalidArgumentError } from '../internal/errors.js';
import { type Cidr, cidrsOverlap, gatewayOf, parseCidr } from './address.js';
import { HcnClient, type HcnEndpointProperties, type HcnNetworkProperties } from './client.js';
import {
  type DnsOptions,
  type EndpointMode,
  endpointDocument,
  internalNetworkDocument,
  namespaceDocument,
  namespaceEndpointRequest,
  natNetworkDocument,
} from './documents.js';
import { HcnError, NetworkNotFoundError, NetworkNotOwnedError } from './errors.js';
import {
  endpointName,
  isOwned,
  OWNED_PREFIX,
  ownedId,
  ownedNetworkName,
  sandboxIdOfEndpoint,
  stableMacAddress,
} from './identity.js';
import { checkPortsAvailable, type PortProbe, probeHostPort } from './port-check.js';
import { formatPortMapping, type PortMapping, PROTOCOL_NUMBER } from './ports.js';

export type NetworkMode = 'none' | EndpointMode;
export const NETWORK_MODES: readonly NetworkMode[] = ['none', 'nat', 'isolated', 'internal'];

/** The default network of `nat` and `isolated` (created on first use). */
export const DEFAULT_NAT_NETWORK = `${OWNED_PREFIX}nat`;
/** The default network of `internal` when the user names none. */
export const DEFAULT_INTERNAL_NETWORK = `${OWNED_PREFIX}internal`;

/** Candidate subnets, in order; the first that overlaps no existing network is used. */
export const SUBNET_CANDIDATES: readonly string[] = [
  ...Array.from({ length: 12 }, (_, i) => `172.${20 + i}.0.0/16`),
  ...Array.from({ length: 32 }, (_, i) => `10.${200 + i}.0.0/16`),
];

export interface NetworkInfo {
  id: string;
  name: string;
  type: string;
  subnet: string | undefined;
  gateway: string | undefined;
  owned: boolean;
  endpoints?: number;
}

export interface NetworkDeps {
  client?: HcnClient;
  /** Host port probe (tests replace it). */
  probe?: PortProbe;
  /** The host's own IPv4 addresses (isolated blocks them); default from os.networkInterfaces(). */
  hostAddresses?: readonly string[];
}

function client(deps: NetworkDeps | undefined): HcnClient {
  return deps?.client ?? new HcnClient();
}

export function subnetOf(props: HcnNetworkProperties): string | undefined {
  for (const ipam of props.Ipams ?? [])
    for (const s of ipam.Subnets ?? []) if (s.IpAddressPrefix) return s.IpAddressPrefix;
  return undefined;
}

export function toNetworkInfo(props: HcnNetworkProperties): NetworkInfo {
  const subnet = subnetOf(props);
  let gateway: string | undefined;
  for (const ipam of props.Ipams ?? [])
    for (const s of ipam.Subnets ?? []) for (const r of s.Routes ?? []) gateway ??= r.NextHop;
  return {
    id: props.ID,
    name: props.Name ?? props.ID,
    type: props.Type ?? '',
    subnet,
    gateway,
    owned: isOwned('network', props),
  };
}

/** Every network on the host (ours and others'), with their endpoint counts. */
export async function listNetworks(deps?: NetworkDeps): Promise<NetworkInfo[]> {
  const c = client(deps);
  const nets = await c.networks();
  const eps = await c.endpoints();
  return nets.map((n) => ({
    ...toNetworkInfo(n),
    endpoints: eps.filter((e) => e.HostComputeNetwork?.toLowerCase() === n.ID.toLowerCase()).length,
  }));
}

/**
 * Finds the network the user means by `name`: ours (`hcs-sandbox-<name>`)
 * first, then anyone's with exactly that Name or id (Docker's `nat`, the
 * Hyper-V "Default Switch"...).
 */
export async function findNetwork(
  name: string,
  deps?: NetworkDeps,
): Promise<HcnNetworkProperties | undefined> {
  const c = client(deps);
  const ours = await c.network(ownedId('network', ownedNetworkName(name)));
  if (ours && isOwned('network', ours)) return ours;
  const byName = await c.networks({ Name: name });
  if (byName[0]) return byName[0];
  if (/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(name)) return c.network(name);
  return undefined;
}

/** The first candidate subnet that overlaps no existing network. */
export async function pickSubnet(deps?: NetworkDeps): Promise<string> {
  const used: Cidr[] = [];
  for (const n of await client(deps).networks()) {
    const s = subnetOf(n);
    if (s) {
      try {
        used.push(parseCidr(s, 'subnet', { loose: true }));
      } catch {
        // someone else's odd prefix: ignore
      }
    }
  }
  for (const text of SUBNET_CANDIDATES) {
    const c = parseCidr(text);
    if (!used.some((u) => cidrsOverlap(u, c))) return text;
  }
  throw new InvalidArgumentError(
    'subnet',
    'a free subnet (none of the defaults is free: pass --subnet)',
    undefined,
  );
}

export interface CreateNetworkOptions {
  name: string;
  type?: 'nat' | 'internal';
  subnet?: string;
  /** Gone at the next host reboot (HCN EnableNonPersistent); the auto-created default network uses it. */
  nonPersistent?: boolean;
}

/**
 * Creates a network owned by hcs-sandbox (`hcs-sandbox-<name>`, name-based id).
 * Two processes racing on the same name both end up with the one network.
 */
export async function createNetwork(
  options: CreateNetworkOptions,
  deps?: NetworkDeps,
): Promise<{ network: NetworkInfo; created: boolean }> {
  const c = client(deps);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(options.name))
    throw new InvalidArgumentError(
      'name',
      'a network name of letters, digits, ".", "_" and "-"',
      options.name,
    );
  const name = ownedNetworkName(options.name);
  const id = ownedId('network', name);
  const existing = await c.network(id);
  if (existing) return { network: toNetworkInfo(existing), created: false };
  const subnet = options.subnet ? parseCidr(options.subnet, 'subnet').text : await pickSubnet(deps);
  const nonPersistent = options.nonPersistent ?? false;
  const doc =
    (options.type ?? 'nat') === 'nat'
      ? natNetworkDocument({ name, subnet, nonPersistent })
      : internalNetworkDocument({ name, subnet, nonPersistent });
  try {
    return { network: toNetworkInfo(await c.createNetwork(id, doc)), created: true };
  } catch (error) {
    if (error instanceof HcnError && error.isAlreadyExists()) {
      const raced = await c.network(id);
      if (raced) return { network: toNetworkInfo(raced), created: false };
    }
    throw error;
  }
}

/** Removes a network hcs-sandbox owns (refuses anyone else's, and one with endpoints). */
export async function removeNetwork(name: string, deps?: NetworkDeps): Promise<NetworkInfo> {
  const props = await findNetwork(name, deps);
  if (!props) throw new NetworkNotFoundError(name);
  if (!isOwned('network', props))
    throw new NetworkNotOwnedError(`Network ${JSON.stringify(props.Name ?? props.ID)}`);
  await client(deps).deleteNetwork(props.ID);
  return toNetworkInfo(props);
}

export interface NetworkInspect extends NetworkInfo {
  document: HcnNetworkProperties;
  endpointList: EndpointInfo[];
}

export async function inspectNetwork(name: string, deps?: NetworkDeps): Promise<NetworkInspect> {
  const props = await findNetwork(name, deps);
  if (!props) throw new NetworkNotFoundError(name);
  const eps = await client(deps).endpoints({ HostComputeNetwork: props.ID });
  const info = toNetworkInfo(props);
  return {
    ...info,
    endpoints: eps.length,
    document: props,
    endpointList: eps.map((e) => toEndpointInfo(e, info)),
  };
}

export interface EnsureNetworkOptions {
  mode: EndpointMode;
  /** A network the user named; otherwise the mode's default network. */
  network?: string;
  subnet?: string;
}

/**
 * The network a sandbox in `mode` joins: an existing one named by the user,
 * or ours, created on first use. `created` says whether this call made it
 * (the caller's undo deletes it then).
 */
export async function ensureNetwork(
  options: EnsureNetworkOptions,
  deps?: NetworkDeps,
): Promise<{ network: NetworkInfo; created: boolean }> {
  const wantInternal = options.mode === 'internal';
  const name = options.network ?? (wantInternal ? DEFAULT_INTERNAL_NETWORK : DEFAULT_NAT_NETWORK);
  const found = await findNetwork(name, deps);
  if (found) {
    const info = toNetworkInfo(found);
    const isInternal = /^(internal|private)$/i.test(info.type);
    if (wantInternal !== isInternal)
      throw new InvalidArgumentError(
        'network',
        wantInternal
          ? 'an internal network for the internal mode'
          : 'a NAT network for the nat and isolated modes',
        info.name,
        `it is a ${info.type} network`,
      );
    return { network: info, created: false };
  }
  // Many sandboxes start at once (in this process and others): only one may
  // create the network; the rest use it. In-process we share the attempt; across
  // processes a losing create is recognised by finding the winner's network.
  const key = `${name}\0${wantInternal}`;
  let pending = creating.get(key);
  if (!pending) {
    pending = createNetwork(
      {
        name,
        type: wantInternal ? 'internal' : 'nat',
        ...(options.subnet ? { subnet: options.subnet } : {}),
        nonPersistent: options.network === undefined,
      },
      deps,
    ).finally(() => creating.delete(key));
    creating.set(key, pending);
    try {
      return await pending;
    } catch (error) {
      const winner = await findNetwork(name, deps);
      if (winner) return { network: toNetworkInfo(winner), created: false };
      throw error;
    }
  }
  try {
    await pending;
  } catch {
    // the creator reports its own failure; look for whoever won
  }
  const found2 = await findNetwork(name, deps);
  if (!found2) throw new NetworkNotFoundError(name);
  return { network: toNetworkInfo(found2), created: false };
}

const creating = new Map<string, Promise<{ network: NetworkInfo; created: boolean }>>();

export interface EndpointInfo {
  id: string;
  name: string;
  sandboxId: string | undefined;
  networkId: string | undefined;
  networkName: string | undefined;
  ipAddress: string | undefined;
  prefixLength: number | undefined;
  gateway: string | undefined;
  macAddress: string | undefined;
  namespaceId: string | undefined;
  ports: PortMapping[];
  owned: boolean;
}

export function portMappingsOf(props: HcnEndpointProperties): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of props.Policies ?? []) {
    if (p.Type !== 'PortMapping' || !p.Settings) continue;
    const s = p.Settings as { Protocol?: number; InternalPort?: number; ExternalPort?: number; VIP?: string };
    const protocol = s.Protocol === PROTOCOL_NUMBER.udp ? 'udp' : 'tcp';
    const m: PortMapping = {
      hostPort: Number(s.ExternalPort),
      sandboxPort: Number(s.InternalPort),
      protocol,
    };
    if (s.VIP) m.hostAddress = s.VIP;
    out.push(m);
  }
  return out;
}

export function toEndpointInfo(props: HcnEndpointProperties, network?: NetworkInfo): EndpointInfo {
  const ip = props.IpConfigurations?.[0];
  const owned = isOwned('endpoint', props);
  return {
    id: props.ID,
    name: props.Name ?? props.ID,
    sandboxId: owned && props.Name ? sandboxIdOfEndpoint(props.Name) : undefined,
    networkId: props.HostComputeNetwork,
    networkName: network?.name,
    ipAddress: ip?.IpAddress,
    prefixLength: ip?.PrefixLength,
    gateway: network?.gateway,
    macAddress: props.MacAddress,
    namespaceId: props.HostComputeNamespace,
    ports: portMappingsOf(props),
    owned,
  };
}

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

/**
 * A namespace (network compartment) for a process-isolated container, with
 * the sandbox's endpoint attached (HCS-NOTES §7.4). Undone on failure.
 */
export async function createSandboxNamespace(sandboxId: string, deps?: NetworkDeps): Promise<string> {
  const c = client(deps);
  const nsId = ownedId('namespace', endpointName(sandboxId));
  const epId = ownedId('endpoint', endpointName(sandboxId));
  await c.createNamespace(nsId, namespaceDocument());
  try {
    await c.modifyNamespace(nsId, namespaceEndpointRequest('Add', epId));
  } catch (error) {
    await c.deleteNamespace(nsId).catch(() => undefined);
    throw error;
  }
  return nsId;
}

/** Detaches the sandbox's endpoint and deletes its namespace; missing pieces are fine. */
export async function deleteSandboxNamespace(sandboxId: string, deps?: NetworkDeps): Promise<void> {
  const c = client(deps);
  const nsId = ownedId('namespace', endpointName(sandboxId));
  const ns = await c.namespace(nsId).catch((e) => {
    if (e instanceof HcnError && e.isNotFound()) return undefined;
    throw e;
  });
  if (!ns) return;
  for (const r of ns.Resources ?? [])
    if (r.Type === 'Endpoint' && r.Data?.ID)
      await c.modifyNamespace(nsId, namespaceEndpointRequest('Remove', r.Data.ID));
  await c.deleteNamespace(nsId);
}

export interface GcReport {
  removedEndpoints: string[];
  removedNamespaces: string[];
  removedNetworks: string[];
  /** Endpoints of other tools, never touched. */
  foreignEndpoints: number;
  errors: string[];
}

/**
 * Removes endpoints hcs-sandbox owns whose sandbox is not in `liveSandboxIds`
 * (and the namespace we made for it). Endpoints and networks of Docker, WSL
 * or anyone else are never touched. With `networks: true`, also removes our
 * networks left without endpoints.
 */
export async function gcNetworks(
  liveSandboxIds: Iterable<string>,
  options: { networks?: boolean } = {},
  deps?: NetworkDeps,
): Promise<GcReport> {
  const c = client(deps);
  const live = new Set([...liveSandboxIds].map((s) => s.toLowerCase()));
  const report: GcReport = {
    removedEndpoints: [],
    removedNamespaces: [],
    removedNetworks: [],
    foreignEndpoints: 0,
    errors: [],
  };
  const endpoints = await c.endpoints();
  for (const e of endpoints) {
    if (!isOwned('endpoint', e)) {
      report.foreignEndpoints++;
      continue;
    }
    const sandboxId = sandboxIdOfEndpoint(e.Name ?? '');
    if (live.has(sandboxId.toLowerCase())) continue;
    try {
      const nsId = ownedId('namespace', e.Name ?? '');
      if (e.HostComputeNamespace && e.HostComputeNamespace.toLowerCase() !== nsId) continue; // attached to someone else's namespace: leave it
      if (e.HostComputeNamespace) {
        await deleteSandboxNamespace(sandboxId, deps);
        report.removedNamespaces.push(nsId);
      }
      await c.deleteEndpoint(e.ID);
      report.removedEndpoints.push(e.Name ?? e.ID);
    } catch (error) {
      report.errors.push(`${e.Name}: ${(error as Error).message}`);
    }
  }
  if (options.networks) {
    const remaining = await c.endpoints();
    for (const n of await c.networks()) {
      if (!isOwned('network', n)) continue;
      if (remaining.some((e) => e.HostComputeNetwork?.toLowerCase() === n.ID.toLowerCase())) continue;
      try {
        await c.deleteNetwork(n.ID);
        report.removedNetworks.push(n.Name ?? n.ID);
      } catch (error) {
        report.errors.push(`${n.Name}: ${(error as Error).message}`);
      }
    }
  }
  return report;
}

/** A sandbox's endpoint (address, ports, network), if it has one. */
export async function sandboxEndpoint(
  sandboxId: string,
  deps?: NetworkDeps,
): Promise<EndpointInfo | undefined> {
  const props = await client(deps).endpoint(ownedId('endpoint', endpointName(sandboxId)));
  return props ? toEndpointInfo(props) : undefined;
}
