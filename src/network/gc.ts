import { client, type NetworkDeps } from './deps.js';
import { isOwned, ownedId, sandboxIdOfEndpoint } from './identity.js';
import { deleteSandboxNamespace } from './namespaces.js';

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
 * (and the namespace we made for it), unless `leave` says otherwise. Endpoints and networks of Docker, WSL
 * or anyone else are never touched. With `networks: true`, also removes our
 * networks left without endpoints.
 */
export async function gcNetworks(
  liveSandboxIds: Iterable<string>,
  options: {
    networks?: boolean;
    /**
     * Asked just before an endpoint not in `liveSandboxIds` is removed, with
     * its sandbox id: true leaves it (another store's sandbox, or one created
     * since `liveSandboxIds` was read).
     */
    leave?: (sandboxId: string) => Promise<boolean>;
  } = {},
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
      if (options.leave && (await options.leave(sandboxId))) continue;
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
