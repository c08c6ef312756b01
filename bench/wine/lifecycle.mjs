// Lifecycle latency (create -> start -> terminate -> close) at a given
// concurrency: `rounds` rounds of `concurrency` systems at once, through the
// product ("product") or through bare koffi calls into the same DLL ("bare").
import { containerDocument, done, product } from '../../test/wine/scripts/lib.mjs';
import {
  bareOperation,
  closeAsync,
  HcsCloseComputeSystem,
  HcsCreateComputeSystem,
  HcsStart,
  HcsTerminate,
  stopBare,
} from './bare.mjs';

const [mode, concurrencyArg, roundsArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg ?? 1);
const rounds = Number(roundsArg ?? 20);
const { ComputeSystem } = product;
const doc = JSON.stringify(containerDocument());

async function viaProduct(id) {
  const system = await ComputeSystem.create(id, containerDocument());
  await system.start();
  await system.terminate();
  await system.close();
}

async function viaBare(id) {
  const out = [null];
  await bareOperation((op) => HcsCreateComputeSystem(id, doc, op, null, out));
  await bareOperation((op) => HcsStart(out[0], op, null));
  await bareOperation((op) => HcsTerminate(out[0], op, null));
  await closeAsync(HcsCloseComputeSystem, out[0]);
}

const run = mode === 'bare' ? viaBare : viaProduct;
async function timed(id) {
  const t0 = performance.now();
  await run(id);
  return performance.now() - t0;
}

await Promise.all(Array.from({ length: concurrency }, (_, i) => timed(`warm-${process.pid}-${i}`)));
const samples = [];
for (let round = 0; round < rounds; round++) {
  samples.push(
    ...(await Promise.all(
      Array.from({ length: concurrency }, (_, i) => timed(`lc-${process.pid}-${round}-${i}`)),
    )),
  );
}
stopBare();
samples.sort((a, b) => a - b);
const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
done({ mode, concurrency, rounds, n: samples.length, p50: at(0.5), p99: at(0.99), max: samples.at(-1) });
