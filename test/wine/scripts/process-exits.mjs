// Issue 12 items 13 and 17 through the simulated host's knobs: an exit whose
// status carries no ExitCode (or a non-zero LastWaitResult) is -1, and a kill
// whose ProcessExited arrives before the terminate completes still succeeds.
import { containerDocument, main, product, sim } from './lib.mjs';

const { spawnCommand, runCommand } = await import('../../../dist/sandbox/commands.js');
const { ComputeSystem } = product;

await main(async () => {
  sim({ Op: 'Reset' });
  const system = await ComputeSystem.create(`exits-${process.pid}`, containerDocument());
  const r = {};
  try {
    await system.start();

    // ProcessExited first, the terminate's completion 1.5 s later.
    sim({ Op: 'SetConfig', Config: { TerminateCompletionDelayMs: 1500 } });
    const handle = await spawnCommand(system, 'ping -n 30 127.0.0.1');
    const killed = await handle.kill().then(
      () => 'resolved',
      (e) => [e.name, e.hresultName ?? e.code],
    );
    const result = await handle.wait();
    r.kill = { killed, exitedWithoutHang: typeof result.exitCode === 'number' };
    sim({ Op: 'SetConfig', Config: { TerminateCompletionDelayMs: 0 } });

    // An exit status without ExitCode, then one with a non-zero LastWaitResult.
    sim({ Op: 'SetConfig', Config: { ExitStatus: { OmitExitCode: true } } });
    const omitted = await runCommand(system, 'cmd /c exit 0', { reject: false });
    r.omitted = omitted.exitCode;
    sim({ Op: 'SetConfig', Config: { ExitStatus: { OmitExitCode: false, LastWaitResult: 5 } } });
    const waitFailed = await runCommand(system, 'cmd /c exit 0', { reject: false });
    r.lastWaitResult = waitFailed.exitCode;
    sim({ Op: 'SetConfig', Config: { ExitStatus: { OmitExitCode: false, LastWaitResult: 0 } } });
    r.normal = (await runCommand(system, 'cmd /c exit 7', { reject: false })).exitCode;
    return r;
  } finally {
    sim({ Op: 'SetConfig', Config: { TerminateCompletionDelayMs: 0, ExitStatus: { OmitExitCode: false } } });
    await system[Symbol.asyncDispose]();
  }
});
