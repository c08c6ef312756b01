import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import type { LiveSandbox } from '../../../src/sandbox/drivers/index.js';
import { SandboxNotRunningError } from '../../../src/sandbox/state-errors.js';
import {
  SandboxNotVmError,
  type ViewEvent,
  ViewerLaunchError,
  viewSandbox,
  viewVirtualMachine,
} from '../../../src/sandbox/view/index.js';
import { rdpFileName, rdpFileText } from '../../../src/sandbox/view/rdp-file.js';
import {
  BASIC_SESSION_PIPE_SUFFIX,
  videoMonitorConnection,
  videoMonitorPipePath,
} from '../../../src/schema/index.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the .rdp file', () => {
  it('is the golden text: the relay address and the flags the VM console needs, CRLF, no BOM', () => {
    expect(rdpFileText(50123)).toBe(
      [
        'full address:s:127.0.0.1:50123',
        'screen mode id:i:1',
        'smart sizing:i:1',
        'enablecredsspsupport:i:0',
        'authentication level:i:0',
        'negotiate security layer:i:1',
        'prompt for credentials:i:0',
        'autoreconnection enabled:i:0',
        '',
      ].join('\r\n'),
    );
  });

  it.each([
    ['dev-vm', 'dev-vm.rdp'],
    ['a/b\\c:d', 'a_b_c_d.rdp'],
    ['..', 'sandbox.rdp'],
    ['', 'sandbox.rdp'],
    ['x'.repeat(200), `${'x'.repeat(80)}.rdp`],
  ])('names the file after the title %j as %j', (title, name) => {
    expect(rdpFileName(title)).toBe(name);
  });
});

describe('the video monitor pipe name', () => {
  it("is the document's NamedPipe: \\\\.\\pipe\\<system id>.BasicSession (NanaBox's name)", () => {
    expect(videoMonitorPipePath('hcssb-dev-0a1b2c')).toBe('\\\\.\\pipe\\hcssb-dev-0a1b2c.BasicSession');
    expect(BASIC_SESSION_PIPE_SUFFIX).toBe('.BasicSession');
    expect(videoMonitorConnection('hcssb-x', ['S-1-5-21-1'])).toEqual({
      NamedPipe: '\\\\.\\pipe\\hcssb-x.BasicSession',
      AccessSids: ['S-1-5-21-1'],
    });
  });
});

/** A fake VM: a Unix socket for its video pipe (echoing), and an exit the test triggers. */
async function fakeVm(): Promise<{
  system: { id: string; waitForExit(): Promise<never> };
  pipePath: string;
  exit(): void;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'view-vm-'));
  const pipePath = join(dir, 'video');
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((resolve) => server.listen(pipePath, resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  let exit!: () => void;
  const exited = new Promise<never>((resolve) => {
    exit = () => resolve(undefined as never);
  });
  return { system: { id: 'hcssb-vm-1', waitForExit: () => exited }, pipePath, exit };
}

function viewer(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('viewVirtualMachine', () => {
  it('relays, writes the .rdp file (owner only), and ends when the VM stops, removing it', async () => {
    const vm = await fakeVm();
    const view = await viewVirtualMachine(vm.system, { pipePath: vm.pipePath, title: 'dev' });
    cleanups.push(() => view.close());
    expect(view.pipe).toBe(vm.pipePath);
    expect(view.rdpFile.endsWith('dev.rdp')).toBe(true);
    expect(readFileSync(view.rdpFile, 'utf8')).toBe(rdpFileText(view.port));
    if (process.platform !== 'win32') {
      expect(statSync(view.rdpFile).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(view.rdpFile)).mode & 0o777).toBe(0o700);
    }
    const s = await viewer(view.port);
    const echoed = new Promise<string>((resolve) => s.once('data', (d) => resolve(String(d))));
    s.write('ping');
    expect(await echoed).toBe('ping');
    vm.exit();
    expect(await view.done).toBe('vm-stopped');
    expect(existsSync(dirname(view.rdpFile))).toBe(false);
    await expect(viewer(view.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('uses the pipe the VM document names by default', async () => {
    const view = await viewVirtualMachine({
      id: 'hcssb-a-1',
      waitForExit: () => new Promise(() => undefined),
    });
    cleanups.push(() => view.close());
    expect(view.pipe).toBe(videoMonitorPipePath('hcssb-a-1'));
    expect(await view.close()).toBe('closed');
    expect(existsSync(view.rdpFile)).toBe(false);
  });

  it('with launch, opens the .rdp file in the viewer and ends when that viewer disconnects', async () => {
    const vm = await fakeVm();
    const launched: string[][] = [];
    let viewerPid: number | undefined;
    const events: ViewEvent[] = [];
    const view = await viewVirtualMachine(vm.system, {
      pipePath: vm.pipePath,
      launch: true,
      onEvent: (e) => events.push(e),
      spawnViewer: (program, args) => {
        launched.push([program, ...args]);
        const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
        viewerPid = child.pid;
        return child;
      },
    });
    cleanups.push(() => view.close());
    expect(launched).toEqual([['mstsc.exe', view.rdpFile]]);
    const s = await viewer(view.port);
    await new Promise((r) => setTimeout(r, 100));
    s.destroy();
    expect(await view.done).toBe('viewer-exited');
    expect(events.map((e) => e.type)).toEqual(['viewer-connected', 'viewer-closed']);
    // The viewer process is ended with the view.
    await new Promise((r) => setTimeout(r, 200));
    expect(() => process.kill(viewerPid as number, 0)).toThrow();
  });

  it('a viewer that cannot be started is a ViewerLaunchError, and nothing is left behind', async () => {
    const vm = await fakeVm();
    let port = 0;
    const error = await viewVirtualMachine(vm.system, {
      pipePath: vm.pipePath,
      launch: true,
      port: 0,
      spawnViewer: (_program, args) => {
        port = Number(readFileSync(args[0] as string, 'utf8').match(/127\.0\.0\.1:(\d+)/)?.[1]);
        return spawn('/nonexistent/mstsc.exe', args);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ViewerLaunchError);
    expect(error).toMatchObject({ code: 'VIEWER_UNAVAILABLE', kind: 'unavailable' });
    expect((error as Error).message).toContain('--no-launch');
    expect(port).toBeGreaterThan(0);
    await expect(viewer(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses a bad port before anything listens', async () => {
    await expect(
      viewVirtualMachine({ id: 'x', waitForExit: () => new Promise(() => undefined) }, { port: 70000 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('Sandbox.view checks (viewSandbox)', () => {
  const live = { ended: false, system: { id: 'hcssb-v-1' } } as unknown as LiveSandbox;

  it('refuses a container: view is for VM sandboxes', async () => {
    const error = await viewSandbox('web', { isolation: 'process', status: 'running' }, live).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxNotVmError);
    expect(error).toMatchObject({ code: 'SANDBOX_NOT_VM', kind: 'invalid-state', isolation: 'process' });
    expect((error as Error).message).toMatch(/isolation 'vm'/);
  });

  it('refuses a VM sandbox that is not running', async () => {
    await expect(
      viewSandbox('dev', { isolation: 'vm', status: 'stopped' }, undefined),
    ).rejects.toBeInstanceOf(SandboxNotRunningError);
    const ended = { ...live, ended: true } as LiveSandbox;
    await expect(viewSandbox('dev', { isolation: 'vm', status: 'running' }, ended)).rejects.toBeInstanceOf(
      SandboxNotRunningError,
    );
  });

  it('checks the port first', async () => {
    await expect(
      viewSandbox('web', { isolation: 'process', status: 'running' }, live, { port: -1 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
