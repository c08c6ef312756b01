// A compute system's whole life through the product's HCS layer: create, start,
// properties, a real process whose output is read, pause/resume, terminate,
// close; then the simulated host's audit.
import { containerDocument, main, product, sim } from './lib.mjs';

const { ComputeSystem, HcsProcess, enumerateComputeSystems, eventLoopHolders } = product;

async function readAll(stream) {
  if (!stream) return '';
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

await main(async () => {
  const id = process.argv[2] ?? `lifecycle-${process.pid}`;
  const events = [];
  const system = await ComputeSystem.create(id, containerDocument());
  system.on((event) => events.push(event.type));
  const created = await system.properties();
  await system.start();
  const running = await system.properties();

  const proc = await HcsProcess.create(system, {
    CommandLine: 'cmd /c echo hello from the sandbox',
    CreateStdOutPipe: true,
    CreateStdErrPipe: true,
  });
  const [stdout, stderr, exit] = await Promise.all([readAll(proc.stdout), readAll(proc.stderr), proc.wait()]);
  await proc.close();

  await system.pause();
  const paused = await system.properties();
  await system.resume();
  const listed = await enumerateComputeSystems({ Ids: [id] });
  const exitStatus = await system.terminate();
  await system.close();
  await system.close(); // idempotent

  return {
    states: [created.State, running.State, paused.State],
    listed: listed.map((s) => ({ Id: s.Id, State: s.State, Owner: s.Owner })),
    pid: proc.pid,
    stdout,
    stderr,
    exitCode: exit.exitCode,
    exitStatus,
    events,
    holders: eventLoopHolders(),
    audit: sim({ Op: 'Audit' }),
  };
});
