import {
  createEndpoint,
  createSandboxNamespace,
  deleteEndpoint,
  deleteSandboxNamespace,
  formatPortMapping,
  stableMacAddress,
} from '../network/index.js';
import type { UndoStack } from '../storage/index.js';
import type { NormalisedOptions } from './options.js';
import type { SandboxRecord, StoredOptions } from './record.js';

/**
 * A sandbox's network, the same for every isolation: one HCN endpoint on the
 * mode's network and one namespace holding it, both named after the compute
 * system id so `gc` can find them.
 */
export async function createSandboxNetwork(
  id: string,
  name: string,
  o: NormalisedOptions,
  undo: UndoStack,
): Promise<Pick<StoredOptions, 'network' | 'namespaceId' | 'ports'>> {
  if (o.network === 'none') return { network: 'none' };
  await createEndpoint({
    sandboxId: id,
    mode: o.network,
    ...(o.networkName !== undefined && { network: o.networkName }),
    ports: o.ports,
    allow: o.allow,
    ...(o.dns !== undefined && { dns: o.dns }),
    persistent: o.persistent,
    ...(o.persistent && { macAddress: stableMacAddress(name) }),
  });
  undo.push('network endpoint', async () => {
    await deleteEndpoint(id);
  });
  const namespaceId = await createSandboxNamespace(id);
  undo.push('network namespace', () => deleteSandboxNamespace(id));
  return {
    network: o.network,
    namespaceId,
    ...(o.ports.length > 0 && { ports: o.ports.map(formatPortMapping) }),
  };
}

/** Removes the sandbox's namespace and endpoint (nothing when it has no network). */
export async function removeSandboxNetwork(record: SandboxRecord): Promise<void> {
  if (record.options.network === 'none') return;
  await deleteSandboxNamespace(record.id);
  await deleteEndpoint(record.id);
}
