import { builtin } from '../internal/lazy-dependency.js';

/**
 * How hcs-sandbox recognises its own HCN objects later (after a crash, from
 * another process, in `gc`), without any field HCN might drop: every object it
 * creates has a `Name` that starts with {@link OWNED_PREFIX} **and** an `ID`
 * that is the name-based GUID {@link ownedId} of that name. Docker's, WSL's or
 * anyone else's objects fail at least one of the two tests (someone naming a
 * network `hcs-sandbox-x` still gets a random id), so gc leaves them alone.
 */
export const OWNED_PREFIX = 'hcs-sandbox-';

export type OwnedKind = 'network' | 'endpoint' | 'namespace';

/** A name-based (version 5 layout, SHA-1) GUID of `kind` + `name`, lowercase. */
export function ownedId(kind: OwnedKind, name: string): string {
  const h = builtin('node:crypto')
    .createHash('sha1')
    .update(`hcs-sandbox/${kind}/${name.toLowerCase()}`)
    .digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Whether an HCN object (its properties) was created by hcs-sandbox. */
export function isOwned(kind: OwnedKind, object: { ID?: unknown; Name?: unknown }): boolean {
  if (typeof object.Name !== 'string' || typeof object.ID !== 'string') return false;
  if (!object.Name.startsWith(OWNED_PREFIX)) return false;
  return object.ID.toLowerCase() === ownedId(kind, object.Name);
}

/** The full HCN name of a network the user calls `name` (`nat` → `hcs-sandbox-nat`). */
export function ownedNetworkName(name: string): string {
  return name.startsWith(OWNED_PREFIX) ? name : `${OWNED_PREFIX}${name}`;
}

/** The endpoint name of a sandbox. */
export function endpointName(sandboxId: string): string {
  return `${OWNED_PREFIX}${sandboxId}`;
}

/** The sandbox id an owned endpoint belongs to. */
export function sandboxIdOfEndpoint(name: string): string {
  return name.slice(OWNED_PREFIX.length);
}

/**
 * A stable MAC address for a persistent sandbox, derived from its name: the
 * Hyper-V OUI 00-15-5D (what HNS assigns from) and three bytes of SHA-256, so
 * the guest keeps its DHCP lease and activation-relevant identity across
 * restarts.
 */
export function stableMacAddress(sandboxName: string): string {
  const h = builtin('node:crypto').createHash('sha256').update(`hcs-sandbox/mac/${sandboxName}`).digest();
  return [
    '00',
    '15',
    '5D',
    ...[h[0], h[1], h[2]].map((b) => (b ?? 0).toString(16).toUpperCase().padStart(2, '0')),
  ].join('-');
}
