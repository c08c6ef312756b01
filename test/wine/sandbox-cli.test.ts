import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { newInstance, runCli, runOk, type WineRun, type WineRunOptions, winePath } from './harness.js';

// The sandbox verbs of the CLI binary, run as a user would: dist/cli/main.js in
// node.exe under Wine against the simulated host, each test with its own state
// folder (HCS_SANDBOX_HOME) holding the tiny seeded image local/base:1.

const IMAGE = 'local/base:1';
const homes: string[] = [];

afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup(): Promise<{
  home: string;
  options: WineRunOptions;
  cli: (...args: string[]) => Promise<WineRun>;
}> {
  const home = mkdtempSync(join(tmpdir(), 'hcs-cli-'));
  homes.push(home);
  const options = {
    instance: newInstance('cli'),
    env: { HCS_SANDBOX_HOME: winePath(home), HCSSIM_STORAGE_ROOT: winePath(join(home, 'sim-storage')) },
  };
  await runOk('sandbox-cli-seed.mjs', [], options);
  return { home, options, cli: (...args: string[]) => runCli(args, options) };
}

function lsRows(run: WineRun): string[][] {
  return run.stdout
    .trim()
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.split(/\s{2,}/));
}

function json<T = Record<string, unknown>>(run: WineRun): T {
  if (run.exitCode !== 0) throw new Error(`exit ${run.exitCode}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** What a sandbox leaves in the state folder: records, writable layers, logs. */
function leftovers(home: string): string[] {
  return ['sandboxes', 'scratch', 'logs'].flatMap((dir) =>
    existsSync(join(home, dir)) ? readdirSync(join(home, dir)).map((f) => `${dir}/${f}`) : [],
  );
}

describe('hcs-sandbox sandbox verbs (CLI under Wine)', () => {
  it('run streams output and exits with the command code; ls, inspect, exec, logs, pause/resume, stop/start, kill, rm', async () => {
    const { home, cli } = await setup();

    const run = await cli(
      'run',
      '--verbose',
      '--name',
      'box1',
      '-e',
      'GREETING=hi',
      IMAGE,
      '--',
      'cmd /c echo %GREETING% from box1& echo oops 1>&2& exit 3',
    );
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toBe('hi from box1\r\n');
    expect(run.stderr).toContain('oops');
    // --verbose: the create's phases, a line each when stderr is not a terminal.
    expect(run.stderr).toContain('creating box1: create-disk\n');
    expect(run.stderr).toContain('starting box1\n');

    // Its command ended, so it stopped (files kept): only `ls --all` shows it.
    expect(lsRows(await cli('ls'))).toEqual([]);
    const all = await cli('ls', '--all');
    expect(all.stdout).toMatch(/^NAME\s+STATUS\s+ISOLATION\s+IMAGE\s+CREATED\n/);
    expect(lsRows(all)).toEqual([
      ['box1', 'stopped', 'process', 'docker.io/local/base:1', expect.stringMatching(/ago$/)],
    ]);
    // stdout and stderr both go to the log, in the order their chunks arrived (two pipes: no fixed order).
    const log = (await cli('logs', 'box1')).stdout;
    expect(log).toContain('hi from box1');
    expect(log).toContain('oops');

    const start = await cli('start', 'box1');
    // Not a terminal and not --verbose: no progress at all.
    expect([start.exitCode, start.stdout, start.stderr]).toEqual([0, 'box1\n', '']);
    expect((await cli('ls', '-q')).stdout).toBe('box1\n');
    expect(lsRows(await cli('list'))[0]?.slice(0, 2)).toEqual(['box1', 'running']);
    // inspect --json is always an array, one object per name.
    const [info = {}, ...more] = json<Record<string, unknown>[]>(await cli('inspect', '--json', 'box1'));
    expect(more).toEqual([]);
    expect(info).toMatchObject({
      name: 'box1',
      status: 'running',
      isolation: 'process',
      image: 'docker.io/local/base:1',
      persistent: true,
    });
    expect(info.id).toMatch(/^hcssb-[0-9a-f]{8}-box1-/);
    const human = await cli('inspect', 'box1');
    expect(human.stdout).toMatch(/^Name:\s+box1\nID:\s+hcssb-[0-9a-f]{8}-box1-\w+\nStatus:\s+running\n/);

    // exec: the sandbox's env applies, plus -e and -w; stdout and stderr come back, the exit code too.
    const exec = await cli(
      'exec',
      '-e',
      'EXTRA=more',
      '-w',
      'C:\\windows',
      'box1',
      '--',
      'cmd /c echo %GREETING% %EXTRA%& cd& echo to stderr 1>&2& exit 4',
    );
    expect(exec.exitCode).toBe(4);
    expect(exec.stdout.toLowerCase()).toBe('hi more\r\nc:\\windows\r\n');
    expect(exec.stderr).toBe('to stderr \r\n');
    const argv = await cli('exec', 'box1', '--', 'cmd', '/c', 'echo', 'two words');
    expect([argv.exitCode, argv.stdout]).toEqual([0, '"two words"\r\n']);

    // -t: a pseudo console (one output stream). The simulated host has no console
    // emulation: the child's stderr goes to NUL there, where real HCS merges it into stdout.
    const tty = await cli(
      'exec',
      '-t',
      'box1',
      '--',
      'cmd /c echo on a console& echo and stderr 1>&2& exit 2',
    );
    expect(tty.exitCode).toBe(2);
    expect(tty.stdout).toContain('on a console');
    expect(tty.stderr).toBe('');

    expect((await cli('pause', 'box1')).stdout).toBe('box1\n');
    expect(lsRows(await cli('ls'))[0]?.[1]).toBe('paused');
    expect((await cli('resume', 'box1')).stdout).toBe('box1\n');
    expect(lsRows(await cli('ls'))[0]?.[1]).toBe('running');

    const refused = await cli('rm', 'box1');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toBe(
      'hcs-sandbox: Sandbox "box1" is running: stop it first, or remove it anyway with rm -f.\n',
    );

    expect((await cli('stop', '--time', '2', 'box1')).stdout).toBe('box1\n');
    expect(lsRows(await cli('ls', '-a'))[0]?.[1]).toBe('stopped');
    await cli('start', '-q', 'box1');
    expect((await cli('kill', 'box1')).stdout).toBe('box1\n');
    expect(lsRows(await cli('ls', '-a'))[0]?.[1]).toBe('stopped');

    const rm = await cli('rm', 'box1');
    expect([rm.exitCode, rm.stdout]).toEqual([0, 'box1\n']);
    expect(json<unknown[]>(await cli('ls', '--all', '--json'))).toEqual([]);
    expect(leftovers(home)).toEqual([]);
  });

  it("run --rm leaves nothing behind, and docker's exit codes: 125 the tool, 126/127 the command, 1 and 2 other verbs", async () => {
    const { home, cli, options } = await setup();
    const run = await cli('run', '--rm', IMAGE, '--', 'cmd', '/c', 'echo', 'gone');
    expect([run.exitCode, run.stdout, run.stderr]).toEqual([0, 'gone\r\n', '']);
    expect(leftovers(home)).toEqual([]);
    const systems = json<{ Id: string }[]>(await runCli(['systems', '--json'], options));
    expect(systems.filter((s) => s.Id.startsWith('hcssb-'))).toEqual([]);

    const usage = await cli('run', '--bogus', IMAGE, '--', 'x');
    expect(usage.exitCode).toBe(125);
    expect(usage.stderr).toBe(
      "hcs-sandbox: unknown option '--bogus'\nRun 'hcs-sandbox run --help' for usage.\n",
    );
    const lsUsage = await cli('ls', '--bogus');
    expect([lsUsage.exitCode, lsUsage.stderr]).toEqual([
      2,
      "hcs-sandbox: unknown option '--bogus'\nRun 'hcs-sandbox ls --help' for usage.\n",
    ]);
    const memory = await cli('run', '--memory', '12', IMAGE, '--', 'x');
    expect(memory.exitCode).toBe(125);
    expect(memory.stderr).toMatch(/^hcs-sandbox: Invalid memoryMB: /);
    const units = await cli('run', '--memory', 'lots', IMAGE, '--', 'x');
    expect(units.exitCode).toBe(125);
    expect(units.stderr).toMatch(/^hcs-sandbox: option '--memory <size>' argument 'lots' is invalid\. /);
    const volume = await cli('run', '-v', 'Z:\\tmp', IMAGE, '--', 'x');
    expect(volume.exitCode).toBe(125);
    const notFound = await cli('run', '--rm', '-q', IMAGE, '--', 'no-such-program.exe');
    expect(notFound.exitCode).toBe(127);
    expect(notFound.stderr).toMatch(/^hcs-sandbox: .*ERROR_FILE_NOT_FOUND/);
    // A container image is no VM image: said before anything is created.
    const vm = await cli('create', '--isolation', 'vm', IMAGE);
    expect(vm.exitCode).toBe(1);
    expect(vm.stderr).toMatch(/Invalid image: .*VM image/);
    const offline = await cli('run', '--rm', '-q', '--network', 'none', IMAGE, '--', 'cmd /c echo offline');
    expect([offline.exitCode, offline.stdout]).toEqual([0, 'offline\r\n']);
    const portsOffline = await cli('run', '--network', 'none', '-p', '8080:80', IMAGE, '--', 'x');
    expect(portsOffline.exitCode).toBe(125);
    expect(portsOffline.stderr).toMatch(/^hcs-sandbox: Invalid ports: /);
    const noImage = await cli('run', '--pull', 'never', 'local/nope:1', '--', 'x');
    expect([noImage.exitCode, noImage.stderr]).toEqual([
      125,
      'hcs-sandbox: No image local/nope:1; pull it with: hcs-sandbox image pull local/nope:1\n',
    ]);
    const missing = await cli('exec', 'nosuch', '--', 'cmd /c echo x');
    expect([missing.exitCode, missing.stderr]).toEqual([125, 'hcs-sandbox: No sandbox named "nosuch".\n']);
    // --json: the error is the one document on stdout, with the verb's exit code.
    const inspectMissing = await cli('inspect', '--json', 'nosuch');
    expect([inspectMissing.exitCode, inspectMissing.stderr]).toEqual([1, '']);
    expect(JSON.parse(inspectMissing.stdout)).toEqual({
      error: { code: 'SANDBOX_NOT_FOUND', kind: 'not-found', message: 'No sandbox named "nosuch".' },
    });
    expect(leftovers(home)).toEqual([]);
  });

  it('create, start, cp in and out (files and folders), share, run -d with logs, rm -f several', async () => {
    const { home, cli } = await setup();
    const host = join(home, 'host');
    mkdirSync(join(host, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(host, 'a.txt'), 'file from the host');
    writeFileSync(join(host, 'tree', 'sub', 'b.txt'), 'deep');

    const create = await cli(
      'create',
      '--name',
      'made',
      '--memory',
      '512m',
      '--storage-opt',
      'size=30G',
      '-v',
      `${winePath(host)}:C:\\data:ro`,
      IMAGE,
    );
    expect([create.exitCode, create.stdout]).toEqual([0, 'made\n']);
    expect(lsRows(await cli('ls'))).toEqual([]);
    expect(lsRows(await cli('ls', '--all'))[0]?.slice(0, 2)).toEqual(['made', 'created']);
    expect((await cli('start', 'made')).stdout).toBe('made\n');

    expect((await cli('cp', winePath(join(host, 'a.txt')), 'made:C:\\work\\a.txt')).exitCode).toBe(0);
    expect((await cli('cp', 'made:C:\\work\\a.txt', winePath(join(host, 'back.txt')))).exitCode).toBe(0);
    expect(readFileSync(join(host, 'back.txt'), 'utf8')).toBe('file from the host');
    expect((await cli('cp', winePath(join(host, 'tree')), 'made:C:\\tree')).exitCode).toBe(0);
    expect((await cli('cp', 'made:C:\\tree', winePath(join(host, 'tree-back')))).exitCode).toBe(0);
    expect(readFileSync(join(host, 'tree-back', 'sub', 'b.txt'), 'utf8')).toBe('deep');
    const noFile = await cli('cp', 'made:C:\\nope.txt', winePath(join(host, 'x')));
    expect(noFile.exitCode).toBe(1);
    expect(noFile.stderr).toBe('hcs-sandbox: C:\\nope.txt does not exist inside the sandbox.\n');
    const bothHost = await cli('cp', 'a', 'b');
    expect(bothHost.exitCode).toBe(2);
    expect(bothHost.stderr).toContain("Run 'hcs-sandbox cp --help' for usage.");

    const share = await cli('share', '--ro', 'made', winePath(host), 'C:\\shared');
    expect(share.stdout).toBe(`${winePath(host)} -> made:C:\\shared (read-only)\n`);
    const [info] = json<{ memoryMB: number; mappedFolders: unknown[] }[]>(
      await cli('inspect', '--json', 'made'),
    );
    expect(info?.memoryMB).toBe(512);
    expect(info?.mappedFolders).toEqual([
      { hostPath: winePath(host), sandboxPath: 'C:\\data', readOnly: true },
      { hostPath: winePath(host), sandboxPath: 'C:\\shared', readOnly: true },
    ]);

    const detached = await cli(
      'run',
      '-d',
      '-q',
      '--name',
      'bg',
      IMAGE,
      '--',
      'cmd /c echo background& exit 7',
    );
    expect([detached.exitCode, detached.stdout]).toEqual([0, 'bg\n']);
    const followed = await cli('logs', '-f', 'bg');
    expect([followed.exitCode, followed.stdout]).toEqual([0, 'background\r\n']);
    expect(json(await cli('logs', '--json', 'bg'))).toMatchObject({
      name: 'bg',
      log: 'background\r\n',
      exitCode: 7,
    });
    // The sandbox outlives the command of run -d, like a container with a background job.
    expect(lsRows(await cli('ls')).map((r) => r.slice(0, 2))).toEqual([
      ['bg', 'running'],
      ['made', 'running'],
    ]);

    const partly = await cli('stop', 'made', 'nosuch');
    expect(partly.exitCode).toBe(1);
    expect(partly.stdout).toBe('made\n');
    expect(partly.stderr).toBe('hcs-sandbox: No sandbox named "nosuch".\n');

    const rm = await cli('rm', '-f', 'made', 'bg');
    expect([rm.exitCode, rm.stdout]).toEqual([0, 'made\nbg\n']);
    expect(lsRows(await cli('ls', '--all'))).toEqual([]);
    expect(leftovers(home)).toEqual([]);

    // Removed while its background command still runs: the command dies with it, no log is left.
    await cli(
      'run',
      '-d',
      '-q',
      '--name',
      'long',
      IMAGE,
      '--',
      'cmd /c ping -n 6 127.0.0.1 >nul & echo late',
    );
    expect((await cli('rm', '-f', 'long')).stdout).toBe('long\n');
    await sleep(8000);
    expect(leftovers(home)).toEqual([]);
  });

  it('starts a .wsb file in a container: folders, memory, logon command, warnings; runs on a VM image by default', async () => {
    const { home, cli } = await setup();
    const shared = join(home, 'shared');
    mkdirSync(shared);
    const wsb = join(home, 'my.wsb');
    writeFileSync(
      wsb,
      [
        '<Configuration>',
        '  <MemoryInMB>1024</MemoryInMB>',
        '  <ClipboardRedirection>Enable</ClipboardRedirection>',
        '  <MappedFolders>',
        '    <MappedFolder>',
        `      <HostFolder>${winePath(shared)}</HostFolder>`,
        '      <SandboxFolder>C:\\shared</SandboxFolder>',
        '      <ReadOnly>true</ReadOnly>',
        '    </MappedFolder>',
        '  </MappedFolders>',
        '  <LogonCommand><Command>cmd /c echo logon ran</Command></LogonCommand>',
        '</Configuration>',
      ].join('\r\n'),
    );

    // start x.wsb exits with the logon command's code, so its own failures are 125.
    // vm by default, as Windows Sandbox: with no VM image built, it says how to build one.
    const vm = await cli('start', winePath(wsb));
    expect(vm.exitCode).toBe(125);
    expect(vm.stderr).toMatch(/hcs-sandbox: No VM image .*`hcs-sandbox vm image build/);
    expect(leftovers(home)).toEqual([]);

    const run = await cli(
      'start',
      winePath(wsb),
      '--isolation',
      'process',
      '--image',
      IMAGE,
      '--name',
      'wsbbox',
    );
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('wsbbox\nlogon ran\r\n');
    expect(run.stderr).toContain(
      `warning: ${winePath(wsb)}:3:3: <ClipboardRedirection>Enable</ClipboardRedirection> is ignored with process isolation`,
    );
    expect(run.stderr).toContain(
      `warning: ${winePath(wsb)}:11:3: The logon command runs when the process-isolated container has started`,
    );
    const [info] = json<{ status: string; memoryMB: number; mappedFolders: unknown[] }[]>(
      await cli('inspect', '--json', 'wsbbox'),
    );
    expect(info?.status).toBe('running');
    expect(info?.memoryMB).toBe(1024);
    expect(info?.mappedFolders).toEqual([
      { hostPath: winePath(shared), sandboxPath: 'C:\\shared', readOnly: true },
    ]);
    expect((await cli('logs', 'wsbbox')).stdout).toBe('logon ran\r\n');

    writeFileSync(
      join(home, 'bad.wsb'),
      '<Configuration>\n  <MemoryInMB>lots</MemoryInMB>\n</Configuration>\n',
    );
    const bad = await cli(
      'start',
      winePath(join(home, 'bad.wsb')),
      '--isolation',
      'process',
      '--image',
      IMAGE,
    );
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toMatch(/^hcs-sandbox: .*bad\.wsb:2:\d+: .*\n$/);
    const none = await cli(
      'start',
      winePath(join(home, 'none.wsb')),
      '--isolation',
      'process',
      '--image',
      IMAGE,
    );
    expect([none.exitCode, none.stderr]).toEqual([
      125,
      `hcs-sandbox: ${winePath(join(home, 'none.wsb'))}: no such file or folder.\n`,
    ]);

    expect((await cli('rm', '-f', 'wsbbox')).stdout).toBe('wsbbox\n');
    expect(leftovers(home)).toEqual([]);
  });
});
