// Added cost per HCS operation: the product's system.properties() against the
// leanest direct koffi use of the same DLL call (create operation, call, await
// the completion callback, read and free the result, close), on the same system.
import { containerDocument, done, product } from '../../test/wine/scripts/lib.mjs';
import {
  bareOperation,
  closeAsync,
  HcsCloseComputeSystem,
  HcsGetProperties,
  HcsOpenComputeSystem,
  stopBare,
} from './bare.mjs';

const iterations = Number(process.argv[2] ?? 2000);
const { ComputeSystem } = product;

async function bare(sys) {
  await bareOperation((op) => HcsGetProperties(sys, op, null));
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { mean: samples.reduce((a, b) => a + b, 0) / samples.length, p50: at(0.5), p99: at(0.99) };
}

const id = `bench-op-${process.pid}`;
const system = await ComputeSystem.create(id, containerDocument());
await system.start();
const raw = [null];
HcsOpenComputeSystem(id, 0x10000000, raw);

const bareSamples = [];
const productSamples = [];
// Warm up both paths, then interleave blocks so drift hits both equally.
for (let i = 0; i < 50; i++) {
  await bare(raw[0]);
  await system.properties();
}
for (let block = 0; block < 10; block++) {
  for (let i = 0; i < iterations / 10; i++) {
    const t0 = performance.now();
    await bare(raw[0]);
    bareSamples.push(performance.now() - t0);
  }
  for (let i = 0; i < iterations / 10; i++) {
    const t0 = performance.now();
    await system.properties();
    productSamples.push(performance.now() - t0);
  }
}
await closeAsync(HcsCloseComputeSystem, raw[0]);
await system[Symbol.asyncDispose]();
stopBare();
done({ iterations, bare: stats(bareSamples), product: stats(productSamples) });
