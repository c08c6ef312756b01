// The sandbox command layer (run/spawn, stdin, timeouts, exit errors) over a compute system.
import { containerDocument, main, product, sim } from './lib.mjs';

const { runCommand, spawnCommand } = await import('../../../dist/sandbox/commands.js');
const { CommandExitError } = await import('../../../dist/sandbox/command-errors.js');
const { ComputeSystem } = product;

await main(async () => {
  const system = await ComputeSystem.create(`cmd-${process.pid}`, containerDocument());
  try {
    await system.start();
    const r = {};
    const hello = await runCommand(system, 'cmd /c echo hello');
    r.hello = { exitCode: hello.exitCode, stdout: hello.stdout, stderr: hello.stderr };
    const argv = await runCommand(system, ['cmd', '/c', 'echo', 'two words']);
    r.argv = argv.stdout.trim();
    const stdin = await runCommand(system, 'cmd /q', { stdin: 'echo piped-in\r\n' });
    r.stdin = stdin.stdout.split(/\r?\n/).filter((l) => l.trim() === 'piped-in').length;
    const env = await runCommand(system, 'cmd /c echo %GREETING%', { env: { GREETING: 'hi-env' } });
    r.env = env.stdout.trim();
    try {
      await runCommand(system, 'cmd /c echo oops 1>&2 & exit 3');
    } catch (error) {
      r.failed = {
        isExitError: error instanceof CommandExitError,
        exitCode: error.exitCode,
        stderr: error.stderr.trim(),
      };
    }
    const noReject = await runCommand(system, 'cmd /c exit 4', { reject: false });
    r.noReject = noReject.exitCode;
    const slow = await runCommand(system, 'ping -n 30 127.0.0.1', { timeoutMs: 500, reject: false });
    r.timeout = { timedOut: slow.timedOut, exitCode: slow.exitCode };
    r.timeoutError = await runCommand(system, 'ping -n 30 127.0.0.1', { timeoutMs: 300 }).then(
      () => 'resolved',
      (e) => [e.name, e.code, e.timedOut, e instanceof CommandExitError],
    );
    const chunks = [];
    const handle = await spawnCommand(system, 'cmd /c echo streamed', { onStdout: (c) => chunks.push(c) });
    const streamed = await handle.wait();
    r.streamed = { pid: handle.pid > 0, chunks: chunks.join('').trim(), stdout: streamed.stdout.trim() };
    // The simulated host hands out overlapped pipe ends; real HCS's kind is unconfirmed
    // (docs/windows-verification.md row 6), so the synchronous kind must work too.
    sim({ Op: 'SetConfig', Config: { StdioPipes: 'Anonymous' } });
    const anonymous = await runCommand(system, 'cmd /q', { stdin: 'echo piped-in\r\n' });
    r.anonymous = anonymous.stdout.split(/\r?\n/).filter((l) => l.trim() === 'piped-in').length;
    return r;
  } finally {
    sim({ Op: 'SetConfig', Config: { StdioPipes: 'Overlapped' } });
    await system[Symbol.asyncDispose]();
  }
});
