// Seeding a VM image for scripts under Wine (tests and `npm run bench`): hcs-sandbox's VM
// image store gets the ready image `name`, its base.vhdx a virtual disk made through the
// simulated virtdisk.dll (one a differencing disk can name as parent), its record written
// through VmImageStore as `vm image build` leaves it, the guest agent recorded as staged
// (the simulated VM runs agent.exe). Nothing is booted from it: the simulated host runs
// no Windows.
import { VmImageStore } from 'hcs-sandbox/storage';

const { storageBindings } = await import('../../../dist/native/index.js');

export async function seedVmImage(home, name = 'win') {
  const store = new VmImageStore({ root: home });
  await store.begin(name, { kind: 'wim', path: 'C:\\media\\install.wim', index: 1 });
  const { virtDisk } = storageBindings();
  const path = store.pathsOf(name).vhdx;
  const disk = await virtDisk.createVirtualDisk(path, { maximumSizeBytes: 64n * 2n ** 30n });
  if (disk.error !== 0 || !disk.handle) throw new Error(`CreateVirtualDisk ${path}: error ${disk.error}`);
  await virtDisk.closeHandle(disk.handle);
  const agent = { from: 'Z:\\agent\\agent.exe', stagedBy: 'test', stagedAt: new Date().toISOString() };
  return store.finish(name, { sizeBytes: 1, build: 26100, edition: 'Professional', agent });
}
