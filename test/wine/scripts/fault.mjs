// Injected faults as the product sees them: a failing start with an HCS error
// document, a hung operation cancelled by timeout, and a service disconnect.
import { setTimeout as sleep } from 'node:timers/promises';
import { containerDocument, main, product, sim } from './lib.mjs';

const { ComputeSystem, HcsError } = product;

function describe(error) {
  if (!(error instanceof HcsError)) throw error;
  return {
    message: error.message,
    hresultName: error.hresultName,
    hresultHex: error.hresultHex,
    operation: error.operation,
    systemId: error.systemId,
    resultError: error.resultError,
    timedOut: error.isTimeout(),
    canceled: error.isCanceled(),
    disconnected: error.isServiceDisconnected(),
    invalidState: error.isInvalidState(),
  };
}

await main(async () => {
  const base = `fault-${process.pid}`;
  const result = {};

  // 1. Start fails with a chosen HRESULT and ResultError document.
  sim({
    Op: 'InjectFault',
    Fault: {
      Function: 'HcsStartComputeSystem',
      Action: 'Fail',
      HResult: 0x80370101 | 0,
      ErrorDocument: {
        Error: 0x80370101 | 0,
        ErrorMessage: 'The container operating system does not match the host operating system.',
        ErrorEvents: [{ Message: 'image build 17763 cannot run on host build 20348 with process isolation' }],
      },
    },
  });
  const a = await ComputeSystem.create(`${base}-a`, containerDocument());
  try {
    await a.start();
    result.fail = 'start unexpectedly succeeded';
  } catch (error) {
    result.fail = describe(error);
  }
  result.stateAfterFail = (await a.properties()).State;
  await a.close();

  // 2. A hung operation: our timeout cancels it and waits for the completion.
  sim({ Op: 'InjectFault', Fault: { Function: 'HcsPauseComputeSystem', Action: 'Hang' } });
  const b = await ComputeSystem.create(`${base}-b`, containerDocument());
  await b.start();
  const t0 = Date.now();
  try {
    await b.pause({ timeoutMs: 300 });
    result.hang = 'pause unexpectedly succeeded';
  } catch (error) {
    result.hang = { ...describe(error), elapsedMs: Date.now() - t0 };
  }
  result.stateAfterHang = (await b.properties()).State;

  // 3. An AbortSignal does the same through the caller.
  sim({ Op: 'InjectFault', Fault: { Function: 'HcsGetComputeSystemProperties', Action: 'Hang' } });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user gave up')), 200);
  try {
    await b.properties(null, { signal: controller.signal });
    result.abort = 'properties unexpectedly succeeded';
  } catch (error) {
    result.abort = describe(error);
  }
  await b.terminate();
  await b.close();

  // 4. The service disconnects mid-call.
  const c = await ComputeSystem.create(`${base}-c`, containerDocument());
  const events = [];
  c.on((event) => events.push(event.type));
  sim({ Op: 'InjectFault', Fault: { Function: 'HcsStartComputeSystem', Action: 'Disconnect' } });
  try {
    await c.start();
    result.disconnect = 'start unexpectedly succeeded';
  } catch (error) {
    result.disconnect = describe(error);
  }
  await sleep(100);
  result.disconnectEvents = events;
  await c.close();

  // 5. A call HCS rejects outright (the request is never accepted).
  const d = await ComputeSystem.create(`${base}-d`, containerDocument());
  sim({
    Op: 'InjectFault',
    Fault: { Function: 'HcsStartComputeSystem', Action: 'FailCall', HResult: 0x8037011b | 0 },
  });
  try {
    await d.start();
    result.failCall = 'start unexpectedly succeeded';
  } catch (error) {
    result.failCall = { ...describe(error), accessDenied: error.isAccessDenied() };
  }

  // 6. A late completion is still awaited, not mistaken for a hang.
  sim({ Op: 'InjectFault', Fault: { Function: 'HcsStartComputeSystem', Action: 'Delay', DelayMs: 400 } });
  const t1 = Date.now();
  await d.start();
  result.delay = { elapsedMs: Date.now() - t1, state: (await d.properties()).State };

  // 7. Cancel not implemented (as Microsoft documents): the hung operation is abandoned after the grace.
  sim({ Op: 'SetConfig', Config: { CancelNotImplemented: true } });
  sim({ Op: 'InjectFault', Fault: { Function: 'HcsPauseComputeSystem', Action: 'Hang' } });
  const t2 = Date.now();
  try {
    await d.pause({ timeoutMs: 200 });
    result.abandon = 'pause unexpectedly succeeded';
  } catch (error) {
    result.abandon = { ...describe(error), elapsedMs: Date.now() - t2 };
  }
  sim({ Op: 'SetConfig', Config: { CancelNotImplemented: false } });
  await d.terminate();
  await d.close();

  sim({ Op: 'ClearFaults' });
  result.audit = sim({ Op: 'Audit' });
  return result;
});
