// 64 systems driven at once, with UV_THREADPOOL_SIZE=1 set by the test: no
// lifecycle call may park a libuv pool thread while HCS works.
import { containerDocument, main, product, sim } from './lib.mjs';

const { ComputeSystem } = product;

await main(async () => {
  const n = Number(process.argv[2] ?? 64);
  const t0 = performance.now();
  const systems = await Promise.all(
    Array.from({ length: n }, (_, i) => ComputeSystem.create(`c-${process.pid}-${i}`, containerDocument())),
  );
  await Promise.all(systems.map((s) => s.start()));
  const states = await Promise.all(systems.map((s) => s.properties().then((p) => p.State)));
  await Promise.all(systems.map((s) => s[Symbol.asyncDispose]()));
  return {
    threadpool: process.env.UV_THREADPOOL_SIZE,
    running: states.filter((s) => s === 'Running').length,
    ms: Math.round(performance.now() - t0),
    audit: sim({ Op: 'Audit' }),
  };
});
