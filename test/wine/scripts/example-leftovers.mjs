// What an example left behind in the store at HCS_SANDBOX_HOME: sandbox records.
import { main, product } from './lib.mjs';

await main(async () => ({ sandboxes: (await product.Sandbox.list()).length }));
