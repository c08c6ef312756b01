// Host port conflicts are refused before anything is created.
import { createServer } from 'node:net';
import { main } from './lib.mjs';
import { failure, network, networkSim, scan } from './network-lib.mjs';

const { createEndpoint, parsePortMapping, deleteEndpoint, gcNetworks } = network;

await main(async () => {
  networkSim({ Op: 'Reset' });
  networkSim({ Op: 'ResetAudit' });
  const server = createServer();
  await new Promise((r) => server.listen(18111, '0.0.0.0', r));
  const busy = await failure(
    createEndpoint({ sandboxId: 'p1', mode: 'nat', ports: [parsePortMapping('18111:80')] }),
  );
  const afterBusy = scan();
  server.close();
  const first = await createEndpoint({ sandboxId: 'p1', mode: 'nat', ports: [parsePortMapping('18112:80')] });
  const ours = await failure(
    createEndpoint({ sandboxId: 'p2', mode: 'nat', ports: [parsePortMapping('18112:8080')] }),
  );
  const dup = await failure(
    createEndpoint({
      sandboxId: 'p2',
      mode: 'nat',
      ports: [parsePortMapping('18113:80'), parsePortMapping('18113:81')],
    }),
  );
  const udpOk = await createEndpoint({
    sandboxId: 'p3',
    mode: 'nat',
    ports: [parsePortMapping('18112:80/udp')],
  });
  const afterConflicts = scan();
  await deleteEndpoint('p1');
  await deleteEndpoint('p3');
  await gcNetworks([], { networks: true });
  return {
    busy,
    afterBusy,
    first,
    ours,
    dup,
    udpOk,
    afterConflicts,
    end: scan(),
    audit: networkSim({ Op: 'Audit' }),
  };
});
