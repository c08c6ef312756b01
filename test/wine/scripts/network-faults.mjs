// A fault injected at each HCN call of createEndpoint, in turn: every failure
// leaves nothing behind (state scan) and leaks nothing (audit).
import { main, trace } from './lib.mjs';
import { failure, network, networkSim, scan } from './network-lib.mjs';

const { createEndpoint, parsePortMapping, gcNetworks } = network;

await main(async () => {
  const runs = [];
  networkSim({ Op: 'Reset' });
  networkSim({ Op: 'ResetAudit' });
  for (let nth = 1; nth < 40; nth++) {
    trace(`nth ${nth}`);
    networkSim({ Op: 'Reset' });
    networkSim({ Op: 'InjectFault', Fault: { Function: '*', Nth: nth, HResult: 0x803b0020 } });
    const error = await failure(
      createEndpoint({
        sandboxId: 'f1',
        mode: 'isolated',
        ports: [parsePortMapping('18200:80')],
        persistent: true,
      }),
    );
    const left = networkSim({ Op: 'State' }).Faults.filter((f) => f.HitsLeft !== 0).length;
    const after = scan();
    runs.push({ nth, error, after });
    if (!error) {
      // the fault was never reached: createEndpoint made fewer than nth calls
      runs[runs.length - 1].faultUnused = left === 1;
      break;
    }
  }
  networkSim({ Op: 'ClearFaults' });
  await gcNetworks([], { networks: true });
  // known host problems
  networkSim({ Op: 'InjectFault', Fault: { Function: 'HcnEnumerateNetworks', HResult: 0x80070005 } });
  const denied = await failure(network.listNetworks());
  networkSim({ Op: 'InjectFault', Fault: { Function: 'HcnEnumerateNetworks', HResult: 0x800706ba } });
  const stopped = await failure(network.listNetworks());
  networkSim({ Op: 'Reset' });
  return { runs, denied, stopped, audit: networkSim({ Op: 'Audit' }) };
});
