// What the probe may have left on the simulated host: our compute systems,
// HCN objects and sandbox records. After a probe run all of it must be gone.
import { main, product } from './lib.mjs';

await main(async () => {
  const systems = await product.enumerateComputeSystems();
  const networks = await product.listNetworks();
  const sandboxes = await product.Sandbox.list();
  return {
    systems: systems.map((s) => s.Id).filter((id) => id.startsWith(product.SYSTEM_ID_PREFIX)),
    networks: networks.map((n) => n.name).filter((n) => n.includes('probe')),
    sandboxes: sandboxes.map((s) => s.name),
  };
});
