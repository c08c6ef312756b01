// Creates and starts a system, then exits without closing it: the creating
// process goes away as a crashed one would. argv: id, "outlive" | "ephemeral".
import { containerDocument, done, product } from './lib.mjs';

const [id, mode] = process.argv.slice(2);
const system = await product.ComputeSystem.create(
  id,
  containerDocument({ ShouldTerminateOnLastHandleClosed: mode !== 'outlive' }),
);
await system.start();
done({ id, mode });
// Leave without close(): the handle dies with the process.
process.exit(0);
