// gc removes only our endpoints that no live sandbox uses; Docker's, WSL's and impostors stay.
import { main } from './lib.mjs';
import { foreignEndpoint, foreignNetwork, network, networkSim, scan } from './network-lib.mjs';

const { createEndpoint, createSandboxNamespace, gcNetworks } = network;

await main(async () => {
  networkSim({ Op: 'Reset' });
  networkSim({ Op: 'ResetAudit' });
  const dockerNet = await foreignNetwork('nat', '172.29.0.0/16');
  await foreignEndpoint(dockerNet, 'docker-container-ep');
  const wslNet = await foreignNetwork('WSL', '172.30.0.0/20', 'ICS');
  await foreignEndpoint(wslNet, 'wsl-ep');
  // an impostor: our prefix, but not our name-based id
  await foreignEndpoint(dockerNet, 'hcs-sandbox-impostor');
  for (const id of ['live', 'dead1', 'dead2']) await createEndpoint({ sandboxId: id, mode: 'nat' });
  await createSandboxNamespace('dead2');
  const before = scan();
  const gc = await gcNetworks(['live']);
  const middle = scan();
  const gc2 = await gcNetworks([], { networks: true });
  const end = scan();
  return { before, gc, middle, gc2, end, audit: networkSim({ Op: 'Audit' }) };
});
