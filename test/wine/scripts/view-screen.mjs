// The screen relay against the simulated video monitor pipe: a VM compute system whose document
// names its pipe (Devices.VideoMonitor.ConnectionOptions.NamedPipe), and the product's relay on a
// loopback port. The Linux side (view-screen.test.ts) connects RDP clients to the port, then
// writes `commandFile` to have the VM stopped; the result says how the view ended.
// Args: readyFile commandFile (Windows paths).
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { main, product, trace } from './lib.mjs';

const { ComputeSystem, videoMonitorConnection, viewVirtualMachine } = product;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A disk-boot VM document as far as the screen needs it (the simulated host boots nothing). */
function vmDocument(id) {
  return {
    SchemaVersion: { Major: 2, Minor: 1 },
    Owner: 'hcs-sandbox-tests',
    ShouldTerminateOnLastHandleClosed: true,
    VirtualMachine: {
      StopOnReset: false,
      Chipset: {
        Uefi: {
          ApplySecureBootTemplate: 'Apply',
          SecureBootTemplateId: '1734c6e8-3154-4dda-ba5f-a874cc483422',
        },
      },
      ComputeTopology: { Memory: { SizeInMB: 2048 }, Processor: { Count: 2 } },
      Devices: {
        VideoMonitor: {
          HorizontalResolution: 1024,
          VerticalResolution: 768,
          ConnectionOptions: videoMonitorConnection(id, ['S-1-5-21-0-0-0-1000']),
        },
        Keyboard: {},
        Mouse: {},
      },
    },
  };
}

/** Whether a named pipe accepts a connection now. */
function pipeAccepts(path) {
  return new Promise((resolve) => {
    const socket = connect(path, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

await main(async () => {
  const [readyFile, commandFile] = process.argv.slice(2);
  const id = `hcssb-view-${process.pid}`;
  const system = await ComputeSystem.create(id, vmDocument(id));
  await system.start();
  trace('vm running');
  const events = [];
  const view = await viewVirtualMachine(system, {
    title: 'view test',
    onEvent: (e) => events.push({ type: e.type, viewer: e.viewer, error: e.error?.message }),
  });
  writeFileSync(readyFile, JSON.stringify({ port: view.port, rdpFile: view.rdpFile, pipe: view.pipe }));
  trace(`relay on ${view.port}`);
  while (!existsSync(commandFile)) await sleep(100);
  trace('stopping the vm');
  await system.terminate();
  const reason = await Promise.race([
    view.done,
    sleep(20_000).then(() => 'still running 20 s after the VM stopped'),
  ]);
  const result = {
    reason,
    events,
    rdpFileLeft: existsSync(view.rdpFile),
    pipeAfterStop: await pipeAccepts(view.pipe),
  };
  await system.close();
  return result;
});
