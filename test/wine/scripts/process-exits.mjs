// Issue 12 item 13 through the simulated host's knobs: an exit whose status
// carries no ExitCode (or a non-zero LastWaitResult) is -1.
import { containerDocument, main, product, sim, trace } from './lib.mjs';

const { runCommand } = await import('../../../dist/sandbox/commands.js');
const { ComputeSystem } = product;

await main(async () => {
  sim({ Op: 'Reset' });
  const system = await ComputeSystem.create(`exits-${process.pid}`, containerDocument());
  const r = {};
  try {
    await system.start();

    // The kill racing its own exit (TerminateCompletionDelayMs) is covered by the unit
    // tier only: through the simulated host, handle.wait() after such a kill hung in about
    // 1 run of 8 (found 2026-12-06, not yet diagnosed; see the closing note of issue 12).

    // An exit status without ExitCode, then one with a non-zero LastWaitResult.
    sim({ Op: 'SetConfig', Config: { ExitStatus: { OmitExitCode: true } } });
    trace('omitted');
    const omitted = await runCommand(system, 'cmd /c exit 0', { reject: false });
    r.omitted = omitted.exitCode;
    sim({ Op: 'SetConfig', Config: { ExitStatus: { OmitExitCode: false, LastWaitResult: 5 } } });
    trace('lastWait');
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
