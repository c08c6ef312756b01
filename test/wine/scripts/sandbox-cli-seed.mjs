// Seeds hcs-sandbox's own store (HCS_SANDBOX_HOME) with the tiny image local/base:1,
// so the CLI tests can create sandboxes from it.
import { main } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

await main(async () => ({ image: await seedImage(process.env.HCS_SANDBOX_HOME) }));
