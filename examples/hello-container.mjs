// Runs one command in a process-isolated Windows container and prints its output.
//   node examples/hello-container.mjs
// The layer chain and scratch volume come from HELLO_LAYERS / HELLO_SCRATCH
// (JSON array of {id, path}, base OS layer last; a mounted scratch volume path).
// hcs-sandbox's storage layer will find these for you from an image reference.
import { buildProcessContainer, buildProcessParameters, ComputeSystem, HcsProcess } from 'hcs-sandbox';

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
