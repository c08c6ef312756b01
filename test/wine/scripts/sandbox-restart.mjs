// A persistent sandbox with nat across a host restart: create, stop, the simulated host
// restarts (compute systems, the non-persistent default network with its endpoints and
// namespaces, and disk attachments are gone), start again, run a command, remove: nothing left.
import { main, product, sim, trace } from './lib.mjs';
import { hcnState, networkSim, scan } from './network-lib.mjs';
import { seedImage } from './sandbox-lib.mjs';
import { storageSim } from './storage-lib.mjs';

const { Sandbox } = product;

/** The sandbox's endpoint and namespace as the simulated HCN holds them. */
function hcnOf(id) {
  const s = hcnState();
  const endpoint = s.Endpoints.find((e) => e.Name === `hcs-sandbox-${id}`);
  const namespace = s.Namespaces.find((n) => n.ID === endpoint?.HostComputeNamespace);
  return {
    endpoint: endpoint?.ID ?? null,
    namespace: namespace?.ID ?? null,
    holds: namespace?.Resources?.some((r) => r.Data?.ID === endpoint?.ID) ?? false,
    network: s.Networks.find((n) => n.ID === endpoint?.HostComputeNetwork)?.Name ?? null,
  };
}

await main(async () => {
  const image = await seedImage(process.env.HCS_SANDBOX_HOME);
  const r = {};
  trace('create');
  const sb = await Sandbox.create({
    image,
    name: 'keep',
    persistent: true,
    network: 'nat',
    ports: ['18490:80'],
  });
  r.before = hcnOf(sb.id);
  r.ipBefore = await sb.ip();
  await sb.stop();
  await sb.close();
  trace('host restart');
  r.restart = {
    hcs: sim({ Op: 'HostRestart' }),
    hcn: networkSim({ Op: 'HostRestart' }),
    storage: storageSim({ Op: 'HostRestart' }),
  };
  r.afterRestart = scan();
  trace('start again');
  const again = await Sandbox.open('keep');
  await again.start();
  r.after = hcnOf(again.id);
  r.ipAfter = await again.ip();
  const info = await again.info();
  r.status = info.status;
  r.ports = info.ports;
  const system = sim({ Op: 'ServiceState' }).Systems.find((s) => s.Id === again.id);
  const doc = typeof system?.Document === 'string' ? JSON.parse(system.Document) : system?.Document;
  r.documentNamespace = doc?.Container?.Networking?.Namespace ?? null;
  r.run = (await again.commands.run('cmd /c echo after the restart')).stdout.trim();
  trace('remove');
  await again.remove();
  r.left = {
    hcn: scan(),
    systems: sim({ Op: 'ServiceState' }).Systems.map((s) => s.Id),
    sandboxes: (await Sandbox.list()).map((s) => s.name),
    attachedDisks: storageSim({ Op: 'Audit' }).AttachedDisks,
  };
  return r;
});
