// Creates an ephemeral sandbox and dies without cleaning up, as a crash would.
import { done, product } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const image = await seedImage(process.env.HCS_SANDBOX_HOME);
const sb = await product.Sandbox.create({ image, name: process.argv[2] });
done({ name: sb.name, id: sb.id });
process.exit(0);
