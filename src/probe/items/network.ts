import {
  createEndpoint,
  createNetwork,
  createSandboxNamespace,
  deleteEndpoint,
  deleteSandboxNamespace,
  listNetworks,
  removeNetwork,
} from '../../network/index.js';
import { fail, type ProbeItem, pass } from '../types.js';
import { needsElevation } from './images.js';

export const networkItems: ProbeItem[] = [
  {
    id: 'hcn.objects',
    title: 'HCN: create and delete a NAT network, an endpoint with ACLs, a namespace of ours',
    rows: ['21', 'A10', 'A11'],
    timeoutMs: 180_000,
    async run(ctx) {
      needsElevation(ctx);
      const tag = `probe-${process.pid}`;
      ctx.defer(`remove network ${tag}`, () => removeNetwork(tag).catch(() => undefined));
      const { network } = await createNetwork({ name: tag, type: 'nat', nonPersistent: true });
      ctx.defer(`delete endpoint ${tag}`, () => deleteEndpoint(tag));
      const endpoint = await createEndpoint({ sandboxId: tag, mode: 'isolated', network: network.name });
      ctx.defer(`delete namespace ${tag}`, () => deleteSandboxNamespace(tag));
      const namespaceId = await createSandboxNamespace(tag);
      const details: Record<string, unknown> = {
        network: { id: network.id, name: network.name, type: network.type, subnet: network.subnet },
        endpoint,
        namespaceId,
      };
      await deleteSandboxNamespace(tag);
      details.endpointDeleted = await deleteEndpoint(tag);
      await removeNetwork(tag);
      details.networkGone = !(await listNetworks()).some((n) => n.id === network.id);
      if (!details.networkGone) return fail('the network is still listed after removal', details);
      return pass('network, endpoint and namespace were created and deleted', details);
    },
  },
];
