import { InvalidArgumentError } from '../internal/errors.js';
import { type Cidr, cidrsOverlap, parseCidr } from './address.js';
import type { HcnNetworkProperties } from './client.js';
import { client, type NetworkDeps } from './deps.js';
import { type EndpointMode, internalNetworkDocument, natNetworkDocument } from './documents.js';
import { HcnError, NetworkNotFoundError, NetworkNotOwnedError } from './errors.js';
import { isOwned, OWNED_PREFIX, ownedId, ownedNetworkName } from './identity.js';
import { type EndpointInfo, type NetworkInfo, subnetOf, toEndpointInfo, toNetworkInfo } from './info.js';

/** The default network of `nat` and `isolated` (created on first use). */
export const DEFAULT_NAT_NETWORK = `${OWNED_PREFIX}nat`;
/** The default network of `internal` when the user names none. */
export const DEFAULT_INTERNAL_NETWORK = `${OWNED_PREFIX}internal`;

/** Candidate subnets, in order; the first that overlaps no existing network is used. */
export const SUBNET_CANDIDATES: readonly string[] = [
  ...Array.from({ length: 12 }, (_, i) => `172.${20 + i}.0.0/16`),
  ...Array.from({ length: 32 }, (_, i) => `10.${200 + i}.0.0/16`),
];

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
