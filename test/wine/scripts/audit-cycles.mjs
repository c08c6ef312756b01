// N create/start/process/terminate/close cycles, then the simulated host's
// audit: every operation, handle and string the product received must be gone.
import { containerDocument, main, product, sim } from './lib.mjs';

const { ComputeSystem, HcsProcess, eventLoopHolders, hcsDiagnostics } = product;

await main(async () => {
  const cycles = Number(process.argv[2] ?? 20);
  const concurrency = Number(process.argv[3] ?? 4);
  sim({ Op: 'ResetAudit' });
  let outputs = 0;
  const one = async (i) => {
    // Node 20 has Symbol.asyncDispose but not the `await using` syntax in plain JS.
    const system = await ComputeSystem.create(`audit-${process.pid}-${i}`, containerDocument());
    try {
      await system.start();
      const proc = await HcsProcess.create(system, {
        CommandLine: `cmd /c echo cycle ${i}`,
        CreateStdOutPipe: true,
      });
      let text = '';
      for await (const chunk of proc.stdout) text += chunk.toString();
      await proc.wait();
      await proc.close();
      if (text.trim() === `cycle ${i}`) outputs++;
      await system.properties({ PropertyTypes: ['Statistics'] });
    } finally {
      await system[Symbol.asyncDispose]();
    }
  };
  for (let i = 0; i < cycles; i += concurrency) {
    await Promise.all(Array.from({ length: Math.min(concurrency, cycles - i) }, (_, k) => one(i + k)));
  }
  return {
    cycles,
    outputs,
    holders: eventLoopHolders(),
    diagnostics: hcsDiagnostics(),
    audit: sim({ Op: 'Audit' }),
  };
});
