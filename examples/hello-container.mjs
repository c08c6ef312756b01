// Runs one command in a process-isolated Windows container and prints its output,
// through the low-level HCS layer (hcs-sandbox/hcs) and the document builders
// (hcs-sandbox/schema). examples/sandbox.mjs does the same through `Sandbox`.
//   node examples/hello-container.mjs
// The layer chain and scratch volume come from HELLO_LAYERS / HELLO_SCRATCH
// (JSON array of {id, path}, base OS layer last; a mounted scratch volume path).
// hcs-sandbox/storage finds the layers from an image reference and mounts scratch volumes.
import { ComputeSystem, HcsProcess } from 'hcs-sandbox/hcs';
import { buildProcessContainer, buildProcessParameters } from 'hcs-sandbox/schema';

const layers = JSON.parse(
  process.env.HELLO_LAYERS ??
    '[{"id":"3b2a6c8e-0d4f-5a1b-9c7e-2f6d8a4b1c3e","path":"C:\\\\layers\\\\nanoserver"}]',
);
const scratchPath = process.env.HELLO_SCRATCH ?? 'C:\\sandboxes\\hello\\scratch';

const system = await ComputeSystem.create(
  `hello-${process.pid}`,
  buildProcessContainer({ layers, scratchPath }),
);
try {
  await system.start();
  const proc = await HcsProcess.create(
    system,
    buildProcessParameters({ commandLine: 'cmd /c echo hello from a container', createStdOutPipe: true }),
  );
  for await (const chunk of proc.stdout) process.stdout.write(chunk);
  const { exitCode } = await proc.wait();
  await proc.close();
  console.log(`exit code ${exitCode}`);
} finally {
  await system[Symbol.asyncDispose](); // terminate if still running, then close
}
