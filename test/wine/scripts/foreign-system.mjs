// Makes a compute system someone else owns (as Docker would), left running.
import { containerDocument, main, product } from './lib.mjs';

await main(async () => {
  const id = process.argv[2];
  const system = await product.ComputeSystem.create(
    id,
    containerDocument({ Owner: 'docker', ShouldTerminateOnLastHandleClosed: false }),
  );
  await system.start();
  await system.close();
  return { id };
});
