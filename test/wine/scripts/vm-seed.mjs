// Seeds hcs-sandbox's VM image store (HCS_SANDBOX_HOME) with the ready VM image argv[2]
// (default `win`), as `vm image build` leaves one (vm-lib.mjs).
import { main } from './lib.mjs';
import { seedVmImage } from './vm-lib.mjs';

await main(async () => {
  const record = await seedVmImage(process.env.HCS_SANDBOX_HOME, process.argv[2] ?? 'win');
  return { name: record.name, vhdx: record.vhdxPath };
});
