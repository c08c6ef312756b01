// The simulated video monitor pipe's rules without an RDP server behind it (no HCSSIM_VIDEO_TCP):
// served under the document's NamedPipe while the VM runs (clients are held), not served for a
// VideoMonitor without ConnectionOptions, a new client takes over from the previous one, gone
// after the VM stops (test-host/sim/video_pipe.c).
import { connect } from 'node:net';
import { main, product } from './lib.mjs';

const { ComputeSystem, videoMonitorConnection, videoMonitorPipePath } = product;

function vmDocument(connection) {
  return {
    SchemaVersion: { Major: 2, Minor: 1 },
    Owner: 'hcs-sandbox-tests',
    ShouldTerminateOnLastHandleClosed: true,
    VirtualMachine: {
      ComputeTopology: { Memory: { SizeInMB: 2048 }, Processor: { Count: 2 } },
      Devices: {
        VideoMonitor: { HorizontalResolution: 1024, VerticalResolution: 768, ...connection },
        Keyboard: {},
        Mouse: {},
      },
    },
  };
}

/** Connects to a pipe: the socket, or the error code. */
function open(path) {
  return new Promise((resolve) => {
    const socket = connect(path, () => resolve(socket));
    socket.once('error', (error) => resolve(error.code ?? String(error)));
  });
}

/**
 * Connects to a pipe the VM serves, trying again for up to `ms` while it is not there yet
 * or busy: the simulated worker makes its pipe instance just after start returns, and on a
 * loaded machine that can take a moment (a viewer retries the same way).
 */
async function openServed(path, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const result = await open(path);
    if (typeof result === 'object' || Date.now() > end) return result;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether `socket` is closed by the other side within `ms`. */
function closedWithin(socket, ms) {
  return new Promise((resolve) => {
    if (socket.closed) return resolve(true); // closed already, while the caller awaited something else
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

await main(async () => {
  const id = `hcssb-pipe-${process.pid}`;
  const pipe = videoMonitorPipePath(id);
  const system = await ComputeSystem.create(
    id,
    vmDocument({ ConnectionOptions: videoMonitorConnection(id, ['S-1-5-21-0-0-0-1000']) }),
  );
  const beforeStart = await open(pipe);
  await system.start();
  const first = await openServed(pipe);
  const firstHeld = typeof first === 'object' && !(await closedWithin(first, 1000));
  first.write?.('bytes the held console drops');
  const second = await openServed(pipe);
  const firstTakenOver = typeof first === 'object' && (await closedWithin(first, 5000));
  const secondHeld = typeof second === 'object' && !(await closedWithin(second, 500));
  await system.pause();
  const whilePaused = await openServed(pipe);
  const pausedServed = typeof whilePaused === 'object';
  await system.resume();
  await system.terminate();
  const lastEndedWithVm = pausedServed && (await closedWithin(whilePaused, 5000));
  const afterStop = await open(pipe);
  await system.close();

  const bareId = `hcssb-bare-${process.pid}`;
  const bare = await ComputeSystem.create(bareId, vmDocument({}));
  await bare.start();
  const bareVideo = await open(videoMonitorPipePath(bareId));
  await bare.terminate();
  await bare.close();
  for (const s of [first, second, whilePaused, bareVideo]) s?.destroy?.();
  return {
    beforeStart,
    firstHeld,
    firstTakenOver,
    secondHeld,
    pausedServed,
    lastEndedWithVm,
    afterStop,
    bareVideo: typeof bareVideo === 'object' ? 'served' : bareVideo,
  };
});
