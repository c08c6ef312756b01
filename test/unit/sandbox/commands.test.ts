import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  type CommandInput,
  type RunOptions,
  runCommand,
  spawnCommand,
} from '../../../src/sandbox/commands.js';
import { CommandExitError, Sandbox, TimeoutError } from '../../../src/sandbox/index.js';
import type { FakeProcess } from '../../support/fake-computecore.js';
import { rejectionOf, withSystem } from '../../support/fake-harness.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

// The schema builders take Windows host paths; the temporary home here is POSIX.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();

/** Every process writes `out` and exits with `code` as soon as it starts. */
function script(out: string, code = 0, err = ''): void {
  host.hcs.fake.processScript = (p) => {
    if (out) p.stdout?.write(out);
    if (err) p.stderr?.write(err);
    host.hcs.fake.exitProcess(p.pid, code);
  };
}

function lastProcess(): FakeProcess {
  const process = host.hcs.fake.processes.at(-1);
  if (!process) throw new Error('no process was created');
  return process;
}

describe('the command line handed to HcsCreateProcess', () => {
  it('quotes argv for Windows, and pipes stdin, stdout and stderr', async () => {
    script('');
    await withSystem(async (system) => {
      const result = await runCommand(system, [
        'C:\\Program Files\\app.exe',
        'a b',
        'say "hi"',
        'tail\\',
        '',
      ]);
      expect(result.command).toBe('"C:\\Program Files\\app.exe" "a b" "say \\"hi\\"" tail\\ ""');
      expect(lastProcess().parameters).toMatchObject({
        CommandLine: result.command,
        CreateStdInPipe: true,
        CreateStdOutPipe: true,
        CreateStdErrPipe: true,
      });
    });
  });

  it('passes a command line string as it is', async () => {
    script('');
    await withSystem(async (system) => {
      await runCommand(system, 'cmd /c "echo %PATH%" & ver');
      expect(lastProcess().parameters.CommandLine).toBe('cmd /c "echo %PATH%" & ver');
    });
  });

  const refusals: Array<[string, CommandInput, string, RunOptions?]> = [
    ['an empty command line', '', 'command'],
    ['an empty argv', [], 'command'],
    ['a zero timeout', 'ver', 'timeoutMs', { timeoutMs: 0 }],
    ['an env name with =', 'ver', 'env.A=B', { env: { 'A=B': 'x' } }],
    ['a console width of 0', 'ver', 'cols', { cols: 0 }],
    ['a desktop session in a container', 'notepad', 'desktop', { desktop: true }],
  ];
  it.each(refusals)('refuses %s before reaching HCS', async (_what, command, field, options = {}) => {
    await withSystem(async (system) => {
      const before = host.hcs.fake.nativeCalls().length;
      const error = await rejectionOf(runCommand(system, command, options));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ field });
      expect(host.hcs.fake.nativeCalls()).toHaveLength(before);
    });
  });
});

describe('results', () => {
  it('rejects a non-zero exit with CommandExitError carrying the result', async () => {
    script('partial', 2, 'line 1\nthe reason\n');
    await withSystem(async (system) => {
      const error = await rejectionOf(runCommand(system, 'fail.exe'));
      expect(error).toBeInstanceOf(CommandExitError);
      expect(error).not.toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({
        code: 'COMMAND_FAILED',
        exitCode: 2,
        stdout: 'partial',
        stderr: 'line 1\nthe reason\n',
        timedOut: false,
        isCanceled: false,
      });
      expect((error as Error).message).toContain('exited with code 2: fail.exe\nline 1\nthe reason');
    });
  });

  it('returns a non-zero exit with reject: false', async () => {
    script('out', 2);
    await withSystem(async (system) => {
      await expect(runCommand(system, 'fail.exe', { reject: false })).resolves.toMatchObject({
        exitCode: 2,
        stdout: 'out',
        stderr: '',
        timedOut: false,
      });
    });
  });

  it('kills a command that outlives timeoutMs and rejects with TimeoutError', async () => {
    await withSystem(async (system) => {
      const error = await rejectionOf(runCommand(system, 'ping -t localhost', { timeoutMs: 30 }));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toBeInstanceOf(CommandExitError);
      expect(error).toMatchObject({ code: 'TIMEOUT', timedOut: true });
      expect(lastProcess().exited).toBe(true);
      expect(host.hcs.fake.nativeCalls('HcsTerminateProcess')).toHaveLength(1);
    });
  });

  it('kills a command when its signal aborts', async () => {
    await withSystem(async (system) => {
      const controller = new AbortController();
      const handle = await spawnCommand(system, 'ping -t localhost', { signal: controller.signal });
      controller.abort();
      await expect(handle.wait()).resolves.toMatchObject({ isCanceled: true, timedOut: false });
      expect(lastProcess().exited).toBe(true);
    });
  });
});

describe('spawned commands', () => {
  it('kill() ends a running command', async () => {
    await withSystem(async (system) => {
      const handle = await spawnCommand(system, 'ping -t localhost');
      expect(handle.pid).toBe(lastProcess().pid);
      await handle.kill();
      await expect(handle.wait()).resolves.toMatchObject({ exitCode: 1 });
      await handle.kill(); // already exited: fine
    });
  });

  it('kill() succeeds when the exit it caused arrives before the terminate completes', async () => {
    await withSystem(async (system) => {
      const handle = await spawnCommand(system, 'ping -t localhost');
      // The exit event first; the command then closes its process handle, which
      // cancels the terminate still in flight (issue 12 item 17).
      host.hcs.fake.onNext('HcsTerminateProcess', { kind: 'hang', honourCancel: true });
      const killing = handle.kill();
      await vi.waitFor(() => expect(host.hcs.fake.nativeCalls('HcsTerminateProcess')).toHaveLength(1));
      host.hcs.fake.exitProcess(handle.pid, 1);
      await expect(handle.wait()).resolves.toMatchObject({ exitCode: 1 });
      await expect(killing).resolves.toBeUndefined();
    });
  });

  it('writes stdin, then closes it', async () => {
    host.hcs.fake.processScript = (p) => {
      let input = '';
      p.stdin?.setEncoding('utf8');
      p.stdin?.on('data', (chunk: string) => {
        input += chunk;
      });
      p.stdin?.on('end', () => {
        p.stdout?.write(input.toUpperCase());
        host.hcs.fake.exitProcess(p.pid, 0);
      });
    };
    await withSystem(async (system) => {
      await expect(runCommand(system, 'sort', { stdin: 'some input' })).resolves.toMatchObject({
        stdout: 'SOME INPUT',
      });
      // Without stdin the pipe is closed at once, so a command reading it sees EOF.
      await expect(runCommand(system, 'sort')).resolves.toMatchObject({ stdout: '' });
    });
  });

  it('leaves stdin open with openStdin, for the caller to write live and end', async () => {
    host.hcs.fake.processScript = (p) => {
      let input = '';
      p.stdin?.setEncoding('utf8');
      p.stdin?.on('data', (chunk: string) => {
        input += chunk;
      });
      p.stdin?.on('end', () => {
        p.stdout?.write(input.toUpperCase());
        host.hcs.fake.exitProcess(p.pid, 0);
      });
    };
    await withSystem(async (system) => {
      const handle = await spawnCommand(system, 'sort', { openStdin: true });
      expect(handle.stdin?.writableEnded).toBe(false);
      handle.stdin?.write('one ');
      handle.stdin?.end('two');
      await expect(handle.wait()).resolves.toMatchObject({ stdout: 'ONE TWO' });
    });
  });

  it('keeps no output with keepOutput: false, passing every chunk to onStdout', async () => {
    await withSystem(async (system) => {
      for (const encoding of ['utf8', 'buffer'] as const) {
        const chunks: (string | Buffer)[] = [];
        const handle = await spawnCommand(system, 'type log', {
          encoding,
          keepOutput: false,
          onStdout: (c: string | Buffer) => chunks.push(c),
        });
        const guest = lastProcess();
        guest.stdout?.write('one ');
        guest.stdout?.write('two');
        host.hcs.fake.exitProcess(guest.pid, 0);
        const result = await handle.wait();
        expect(result.stdout.length).toBe(0);
        expect(Buffer.concat(chunks.map((c) => Buffer.from(c))).toString()).toBe('one two');
      }
    });
  });

  it('streams output to onStdout as it arrives', async () => {
    await withSystem(async (system) => {
      const chunks: string[] = [];
      const handle = await spawnCommand(system, 'type log', { onStdout: (c) => chunks.push(c) });
      const guest = lastProcess();
      guest.stdout?.write('one ');
      guest.stdout?.write('two');
      host.hcs.fake.exitProcess(guest.pid, 0);
      await expect(handle.wait()).resolves.toMatchObject({ stdout: 'one two' });
      expect(chunks.join('')).toBe('one two');
    });
  });
});

describe("a sandbox's command defaults", () => {
  it('merges the sandbox env under the command env, and uses its working folder unless cwd is given', async () => {
    const image = await host.seedImage();
    const sandbox = await Sandbox.create({
      image,
      name: 'sb1',
      home: host.home,
      network: 'none',
      scratchSizeGB: 1,
      env: { A: '1', B: '2' },
      workingDir: 'C:\\work',
    });
    try {
      script('');
      await sandbox.commands.run('set', { env: { B: 'command', C: '3' } });
      expect(lastProcess().parameters).toMatchObject({
        Environment: { A: '1', B: 'command', C: '3' },
        WorkingDirectory: 'C:\\work',
      });
      await sandbox.commands.run('cd', { cwd: 'C:\\other' });
      expect(lastProcess().parameters).toMatchObject({
        Environment: { A: '1', B: '2' },
        WorkingDirectory: 'C:\\other',
      });
    } finally {
      await sandbox.remove();
    }
  });
});
