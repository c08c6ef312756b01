// Process A's half of a cross-process test: create a system with a long-running
// process and print the pid, then wait to be told to finish. argv: id, action.
import { containerDocument, main, product } from './lib.mjs';

const { ComputeSystem, HcsProcess } = product;
const [id, action, pidArg] = process.argv.slice(2);

await main(async () => {
  if (action === 'create') {
    const system = await ComputeSystem.create(
      id,
      containerDocument({ ShouldTerminateOnLastHandleClosed: false }),
    );
    await system.start();
    const proc = await HcsProcess.create(system, { CommandLine: 'ping -n 120 127.0.0.1' });
    const pid = proc.pid;
    await proc.close();
    await system.close();
    return { pid };
  }
  // action === 'kill': another process opens the system and the process by pid
  const system = await ComputeSystem.open(id);
  const proc = await HcsProcess.open(system, Number(pidArg));
  const before = await proc.properties();
  await proc.terminate();
  const exit = await proc.wait({ timeoutMs: 20000 });
  await proc.close();
  await system.terminate();
  await system.close();
  return { before, exitCode: exit.exitCode };
});
