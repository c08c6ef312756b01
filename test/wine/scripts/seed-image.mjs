// Seeds a tiny image into the store at HCS_SANDBOX_HOME (argv: reference).
import { main } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

await main(async () => ({
  reference: await seedImage(process.env.HCS_SANDBOX_HOME, process.argv[2] ?? 'local/base:1'),
}));
