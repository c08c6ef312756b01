// Issue 12 item 14: long layer imports (a Delay fault on HcsImportLayer, which
// holds a libuv pool thread as a real multi-minute import does) must not delay
// a command run in a sandbox by the same process. argv: work folder, number of
// imports, delay in ms. The pool size is whatever the environment gave this
// process started with.
import { join } from 'node:path';
import { containerDocument, main, product, sim, trace } from './lib.mjs';
import { storage, storageSim } from './storage-lib.mjs';
import { writeTransportLayer } from './transport-lib.mjs';

const { runCommand } = await import('../../../dist/sandbox/commands.js');
const [work, count, delayMs] = process.argv.slice(2);

await main(async () => {
  sim({ Op: 'Reset' });
  const system = await product.ComputeSystem.create(`pool-${process.pid}`, containerDocument());
  try {
    await system.start();
    const source = join(work, 'extracted');
    await writeTransportLayer(source, { 'Files/f.txt': 'x' });
    storageSim({
      Op: 'InjectFault',
      Fault: { Function: 'HcsImportLayer', Action: 'Delay', DelayMs: Number(delayMs), Count: 0 },
    });
    const t0 = performance.now();
    const imports = Array.from({ length: Number(count) }, (_, i) =>
      storage.importLayer(join(work, 'layers', `l${i}`), source, []).then(() => performance.now() - t0),
    );
    await new Promise((r) => setTimeout(r, 200)); // the imports are on the pool now
    trace('exec during the imports');
    const start = performance.now();
    const result = await runCommand(system, 'cmd /c echo during-import');
    const execMs = performance.now() - start;
    const importMs = Math.max(...(await Promise.all(imports)));
    storageSim({ Op: 'ClearFaults' });
    return {
      poolSize: process.env.UV_THREADPOOL_SIZE ?? null,
      stdout: result.stdout.trim(),
      execMs: Math.round(execMs),
      execDoneAtMs: Math.round(start - t0 + execMs),
      importMs: Math.round(importMs),
    };
  } finally {
    await system[Symbol.asyncDispose]();
  }
});
