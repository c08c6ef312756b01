// Hyper-V isolation end to end on the simulated host: a utility VM, its shares, then the container.
import { main, product, sim } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, enumerateComputeSystems } = product;

await main(async () => {
  const home = process.env.HCS_SANDBOX_HOME;
  const r = {};
  const plain = await seedImage(home, 'local/nouvm:1');
  r.refused = await Sandbox.create({ image: plain, isolation: 'hyperv' }).then(
    () => 'created',
    (e) => [e.name, e.field],
  );

  const image = await seedImage(home, 'local/servercore:1', { utilityVm: true });
  const sb = await Sandbox.create({ image, isolation: 'hyperv', name: 'hv', memoryMB: 1024, ioMaxIops: 500 });
  const systems = await enumerateComputeSystems({ Owners: ['hcs-sandbox'] });
  r.systems = systems.map((s) => [s.Id.replace(/-[0-9a-f]{6}/, '-X'), s.SystemType, s.State]).sort();
  const state = sim({ Op: 'ServiceState' });
  const uvm = state.Systems.find((s) => s.SystemType === 'VirtualMachine');
  r.uvmModifyRequests = uvm?.ModifyRequests?.length ?? 0;
  const container = state.Systems.find((s) => s.SystemType === 'Container');
  r.hostingSystem = container?.Document?.HostingSystemId === uvm?.Id;
  r.uvmStorageQoS = uvm?.Document?.VirtualMachine?.StorageQoS;
  r.run = (await sb.commands.run('cmd /c echo inside hyperv')).stdout.trim();
  r.info = (await sb.info()).isolation;
  r.files = await sb.files.read('C:\\x.txt').then(
    () => 'read',
    (e) => e.code,
  );
  await sb.remove();
  r.after = (await enumerateComputeSystems({ Owners: ['hcs-sandbox'] })).length;
  r.audit = sim({ Op: 'Audit' });
  return r;
});
