import { client, type NetworkDeps } from './deps.js';
import { namespaceDocument, namespaceEndpointRequest } from './documents.js';
import { HcnError } from './errors.js';
import { endpointName, ownedId } from './identity.js';

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
