// Hyper-V isolation end to end on the simulated host: a utility VM, its shares, then the container.
// The simulated host refuses a VM whose disks are not granted to it, checks the guest network
// requests against the simulated HCN, and (knob) refuses GUID-keyed SCSI hot-adds.
import { main, product, sim } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, enumerateComputeSystems } = product;

const leaf = (path) => path.split('\\').at(-1);

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
  r.systems = systems
    .map((s) => [
      s.Id.replace(/^hcssb-[0-9a-f]{8}-/, 'hcssb-').replace(/-[0-9a-f]{6}/, '-X'),
      s.SystemType,
      s.State,
    ])
    .sort();
  const state = sim({ Op: 'ServiceState' });
  const uvm = state.Systems.find((s) => s.SystemType === 'VirtualMachine');
  r.uvmModifyRequests = uvm?.ModifyRequests?.length ?? 0;
  const container = state.Systems.find((s) => s.SystemType === 'Container');
  r.hostingSystem = container?.Document?.HostingSystemId === uvm?.Id;
  r.uvmStorageQoS = uvm?.Document?.VirtualMachine?.StorageQoS;
  // Item 5: both disks granted to this VM.
  r.grants = state.Grants.filter((g) => g.VmId === uvm?.Id).map((g) => [g.Action, leaf(g.FilePath)]);
  // Item 6: the guest namespace, the PreAdd, then the adapter, naming the sandbox's own endpoint.
  r.network = (uvm?.ModifyRequests ?? []).flatMap((m) => {
    if (m.ResourcePath?.startsWith('VirtualMachine/Devices/NetworkAdapters/')) return ['adapter'];
    const g = m.GuestRequest;
    if (g?.ResourceType === 'NetworkNamespace') return ['namespace'];
    if (g?.ResourceType === 'Network') return [`guest ${g.Settings?.RequestType}`];
    return [];
  });
  // (The simulated host accepted the adapter only if EndpointId and MacAddress are an HCN endpoint's.)
  r.run = (await sb.commands.run('cmd /c echo inside hyperv')).stdout.trim();
  r.info = (await sb.info()).isolation;
  r.files = await sb.files.read('C:\\x.txt').then(
    () => 'read',
    (e) => e.code,
  );
  await sb.remove();
  r.after = (await enumerateComputeSystems({ Owners: ['hcs-sandbox'] })).length;

  // Item 12: a host that refuses the GUID controller key; the product boots again with "0".
  const warnings = [];
  process.on('warning', (w) => warnings.push(w.code));
  sim({ Op: 'SetConfig', Config: { RefuseGuidScsiControllers: true } });
  const sb0 = await Sandbox.create({ image, isolation: 'hyperv', name: 'hv0', network: 'none' });
  const uvm0 = sim({ Op: 'ServiceState' }).Systems.find((s) => s.SystemType === 'VirtualMachine');
  r.fallbackScsi = Object.keys(uvm0?.Document?.VirtualMachine?.Devices?.Scsi ?? {});
  r.fallbackRun = (await sb0.commands.run('cmd /c echo again')).stdout.trim();
  await sb0.remove();
  sim({ Op: 'SetConfig', Config: { RefuseGuidScsiControllers: false } });
  await new Promise((resolve) => setImmediate(resolve));
  r.warnings = warnings;
  r.audit = sim({ Op: 'Audit' });
  return r;
});
