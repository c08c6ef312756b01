// A persistent sandbox with nat across a host restart, one phase per process (a reboot ends
// the creating process too): `create` makes it and stops it; `restart` restarts the simulated
// host (compute systems, the non-persistent default network with its endpoints and namespaces,
// and disk attachments are gone); `start` starts it again, runs a command, removes it.
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

const phases = {
  async create() {
    const image = await seedImage(process.env.HCS_SANDBOX_HOME);
    const sb = await Sandbox.create({
      image,
      name: 'keep',
      persistent: true,
      network: 'nat',
      ports: ['18490:80'],
    });
    const r = { hcn: hcnOf(sb.id), ip: await sb.ip() };
    await sb.stop();
    await sb.close();
    return r;
  },
  async restart() {
    const r = {
      hcs: sim({ Op: 'HostRestart' }),
      hcn: networkSim({ Op: 'HostRestart' }),
      storage: storageSim({ Op: 'HostRestart' }),
    };
    return { ...r, after: scan(), systems: sim({ Op: 'ServiceState' }).Systems.map((s) => s.Id) };
  },
  async start() {
    const sb = await Sandbox.open('keep');
    await sb.start();
    const info = await sb.info();
    const system = sim({ Op: 'ServiceState' }).Systems.find((s) => s.Id === sb.id);
    const doc = typeof system?.Document === 'string' ? JSON.parse(system.Document) : system?.Document;
    const r = {
      hcn: hcnOf(sb.id),
      ip: await sb.ip(),
      status: info.status,
      ports: info.ports,
      documentNamespace: doc?.Container?.Networking?.Namespace ?? null,
      run: (await sb.commands.run('cmd /c echo after the restart')).stdout.trim(),
    };
    trace('remove');
    await sb.remove();
    r.left = {
      hcn: scan(),
      systems: sim({ Op: 'ServiceState' }).Systems.map((s) => s.Id),
      sandboxes: (await Sandbox.list()).map((s) => s.name),
      attachedDisks: storageSim({ Op: 'Audit' }).AttachedDisks,
    };
    return r;
  },
};

await main(() => phases[process.argv[2]]());
