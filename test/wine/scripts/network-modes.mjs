// Each mode's documents accepted by the simulated HCN; what the endpoints look like; cleanup.
import { main, trace } from './lib.mjs';
import { failure, network, networkSim, scan } from './network-lib.mjs';

const {
  createEndpoint,
  deleteEndpoint,
  gcNetworks,
  parsePortMapping,
  createSandboxNamespace,
  deleteSandboxNamespace,
  listNetworks,
} = network;

await main(async () => {
  networkSim({ Op: 'Reset' });
  networkSim({ Op: 'ResetAudit' });
  const deps = { hostAddresses: ['192.0.2.10/32'] };
  trace('none');
  const none = await createEndpoint({ sandboxId: 'sb-none', mode: 'none' }, deps);
  trace('nat');
  const nat = await createEndpoint(
    {
      sandboxId: 'sb-nat',
      mode: 'nat',
      ports: [parsePortMapping('18080:80'), parsePortMapping('18053:53/udp')],
      dns: { servers: ['1.1.1.1'], search: ['corp.example.com'] },
    },
    deps,
  );
  trace('isolated');
  const isolated = await createEndpoint(
    { sandboxId: 'sb-iso', mode: 'isolated', allow: ['10.1.2.0/24'], persistent: true },
    deps,
  );
  trace('internal');
  const internal = await createEndpoint({ sandboxId: 'sb-int', mode: 'internal', network: 'lab' }, deps);
  const internal2 = await createEndpoint({ sandboxId: 'sb-int2', mode: 'internal', network: 'lab' }, deps);
  const internalPorts = await failure(
    createEndpoint(
      { sandboxId: 'sb-int3', mode: 'internal', network: 'lab', ports: [parsePortMapping('18081:80')] },
      deps,
    ),
  );
  const twice = await failure(createEndpoint({ sandboxId: 'sb-nat', mode: 'nat' }, deps));
  const wrongKind = await failure(createEndpoint({ sandboxId: 'sb-x', mode: 'nat', network: 'lab' }, deps));
  trace('namespace');
  const nsId = await createSandboxNamespace('sb-nat');
  const state = networkSim({ Op: 'State' });
  const networks = await listNetworks();
  trace('cleanup');
  const deletedAttached = await deleteEndpoint('sb-nat'); // detaches from the namespace first
  await deleteSandboxNamespace('sb-nat');
  for (const id of ['sb-iso', 'sb-int', 'sb-int2']) await deleteEndpoint(id);
  const missing = await deleteEndpoint('sb-never');
  const gc = await gcNetworks([], { networks: true });
  return {
    none,
    nat,
    isolated,
    internal,
    internal2,
    internalPorts,
    twice,
    wrongKind,
    nsId,
    state,
    networks,
    deletedAttached,
    missing,
    gc,
    after: scan(),
    audit: networkSim({ Op: 'Audit' }),
  };
});
