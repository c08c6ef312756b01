// Seeds hcs-sandbox's VM image store (HCS_SANDBOX_HOME) with the ready VM image `win`:
// its base.vhdx a virtual disk made through the simulated virtdisk.dll (the one a
// differencing disk can name as parent), its record written through VmImageStore,
// as `vm image build` leaves them. Nothing is booted from it: the simulated host
// does not run Windows.
import { VmImageStore } from 'hcs-sandbox/storage';
import { main } from './lib.mjs';

const { storageBindings } = await import('../../../dist/native/index.js');

await main(async () => {
  const name = process.argv[2] ?? 'win';
  const store = new VmImageStore({ root: process.env.HCS_SANDBOX_HOME });
  await store.begin(name, { kind: 'wim', path: 'C:\\media\\install.wim', index: 1 });
  const { virtDisk } = storageBindings();
  const path = store.pathsOf(name).vhdx;
  const disk = await virtDisk.createVirtualDisk(path, { maximumSizeBytes: 64n * 2n ** 30n });
  if (disk.error !== 0 || !disk.handle) throw new Error(`CreateVirtualDisk ${path}: error ${disk.error}`);
  await virtDisk.closeHandle(disk.handle);
  // As `vm image build` records the guest agent it staged (the simulated VM runs agent.exe).
  const agent = { from: 'Z:\\agent\\agent.exe', stagedBy: 'test', stagedAt: new Date().toISOString() };
  const record = await store.finish(name, { sizeBytes: 1, build: 26100, edition: 'Professional', agent });
  return { name, vhdx: record.vhdxPath };
});
