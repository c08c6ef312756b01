// Cross-process visibility: one node.exe creates, another sees and removes.
import { main } from './lib.mjs';
import { network, networkSim } from './network-lib.mjs';

const [action, sandboxId] = process.argv.slice(2);

await main(async () => {
  if (action === 'create') {
    networkSim({ Op: 'Reset' });
    const ep = await network.createEndpoint({
      sandboxId,
      mode: 'nat',
      ports: [network.parsePortMapping('18090:80')],
    });
    return { ep };
  }
  // 'inspect-and-clean' from another process
  const nets = await network.listNetworks();
  const inspect = await network.inspectNetwork('nat');
  const conflict = await network
    .createEndpoint({
      sandboxId: `${sandboxId}-2`,
      mode: 'nat',
      ports: [network.parsePortMapping('18090:81')],
    })
    .then(
      () => null,
      (e) => ({ name: e.name, message: e.message }),
    );
  const removed = await network.deleteEndpoint(sandboxId);
  const gc = await network.gcNetworks([], { networks: true });
  return {
    nets,
    inspect,
    conflict,
    removed,
    gc,
    state: networkSim({ Op: 'State' }),
    audit: networkSim({ Op: 'Audit' }),
  };
});
