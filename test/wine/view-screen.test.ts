import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newInstance, runCli, runOk, startCli, type WineChild, winePath } from './harness.js';

/**
 * The headless screen test (issue 14): a VM sandbox made by the product
 * (`hcs-sandbox run --isolation vm -d` in node.exe under Wine, over a seeded VM
 * image) serves the video monitor pipe its create document names, which the
 * simulator relays to a real RDP server (freerdp-shadow-cli sharing an Xvfb
 * screen, standard RDP security only, as the VM worker's console).
 * `hcs-sandbox view NAME --no-launch --json` relays it to a loopback port,
 * and Linux xfreerdp, given the product's own .rdp file, connects on a second
 * Xvfb screen. A frame arriving (that screen turning from black to the shared
 * screen's white) proves the pipe name agreed between the driver's document
 * and `view`, the relay byte-transparent end to end and the .rdp file usable
 * with RDP security; then one viewer at a time, the slot freed on close,
 * `hcs-sandbox stop` ending the view process, and `view` refusing a stopped VM.
 * Tools: xvfb, freerdp2-shadow-x11, freerdp2-x11, x11-apps (test-host/prepare.sh).
 */

const children: ChildProcess[] = [];
const wineChildren: WineChild[] = [];
const dir = mkdtempSync(join(tmpdir(), 'view-screen-'));
afterAll(() => {
  for (const child of [...children, ...wineChildren.map((w) => w.child)].reverse())
    if (child.exitCode === null) child.kill('SIGKILL');
  for (const w of wineChildren) w.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function start(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const log = openSync(join(dir, `${command.split('/').at(-1)}-${children.length}.log`), 'w');
  const child = spawn(command, args, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An X display number nobody uses, and an Xvfb on it. */
async function xvfb(root: '-wr' | '-br'): Promise<string> {
  let n = 100 + Math.floor(Math.random() * 400);
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
  start('Xvfb', [`:${n}`, '-screen', '0', '1024x768x24', root, '-nolisten', 'tcp']);
  await until(`Xvfb :${n}`, () => existsSync(`/tmp/.X11-unix/X${n}`));
  return `:${n}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function tcp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });
}

/** The share of light pixels (every channel above 200) on `display`, from an xwd screenshot. */
function lightShare(display: string): number {
  const xwd = execFileSync('xwd', ['-root', '-silent', '-display', display], { maxBuffer: 64 * 1024 * 1024 });
  const header = (i: number) => xwd.readUInt32BE(i * 4);
  const [headerSize, width, height, bitsPerPixel, bytesPerLine, colors] = [0, 4, 5, 11, 12, 19].map(header);
  if (bitsPerPixel !== 32) throw new Error(`xwd: ${bitsPerPixel} bits per pixel`);
  const pixels = (headerSize as number) + (colors as number) * 12;
  let light = 0;
  let total = 0;
  for (let y = 0; y < (height as number); y += 8) {
    for (let x = 0; x < (width as number); x += 8) {
      const at = pixels + y * (bytesPerLine as number) + x * 4;
      total++;
      if (xwd[at]! > 200 && xwd[at + 1]! > 200 && xwd[at + 2]! > 200) light++;
    }
  }
  return light / total;
}

/** A Windows path under Wine's prefix as a Linux path (drive letters live in dosdevices). */
function linuxPath(windowsPath: string): string {
  const drive = windowsPath.slice(0, 1).toLowerCase();
  return join(
    process.env.WINEPREFIX as string,
    'dosdevices',
    `${drive}:`,
    ...windowsPath.slice(3).split('\\'),
  );
}

/** An X.224 connection request asking for standard RDP security (TPKT + CR + RDP_NEG_REQ), as
 * disco-vm's console test sends it (discobox-ai/vm pkg/machine/hcs/console_windows_test.go). */
const X224_RDP_REQUEST = Buffer.from([3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0]);

/** The "VM screen" (white) behind an RDP server on a free port, and a black screen for the viewer. */
async function screens(): Promise<{ rdpPort: number; viewerScreen: string }> {
  const shared = await xvfb('-wr');
  const viewerScreen = await xvfb('-br'); // black until a frame arrives
  // The shadow server now and then fails to come up on a loaded machine (the port taken
  // between the check and its bind, or a slow start): a few tries, each on a fresh port.
  let rdpPort = 0;
  for (let attempt = 1; ; attempt++) {
    rdpPort = await freePort();
    const server = start(
      'freerdp-shadow-cli',
      [`/bind-address:127.0.0.1`, `/port:${rdpPort}`, '/sec:rdp', '-auth'],
      {
        DISPLAY: shared,
      },
    );
    const listening = await until(
      'the RDP server',
      async () => {
        if (server.exitCode !== null) return 'exited';
        const s = await tcp(rdpPort);
        s?.destroy();
        return s !== undefined ? 'listening' : undefined;
      },
      20_000,
    ).catch(() => 'silent');
    if (listening === 'listening') break;
    server.kill('SIGKILL');
    if (attempt === 3) {
      const logs = readdirSync(dir).filter((f) => f.startsWith('freerdp-shadow-cli'));
      const tail = logs.map((f) => readFileSync(join(dir, f), 'utf8').slice(-600)).join('\n---\n');
      throw new Error(`the RDP server did not listen after 3 tries (last: ${listening}):\n${tail}`);
    }
  }
  return { rdpPort, viewerScreen };
}

/** The one JSON document `view --json` prints on stdout, once it is all there. */
function printedJson<T>(running: WineChild): T | undefined {
  try {
    return JSON.parse(running.stdout()) as T;
  } catch {
    return undefined;
  }
}

describe('hcs-sandbox view, headless, on a VM sandbox the product made', () => {
  it('relays the pipe the driver named to a real RDP server: a frame arrives, one viewer at a time, stop ends the view', async () => {
    const { rdpPort, viewerScreen } = await screens();
    const home = join(dir, 'home');
    const options = {
      instance: newInstance('view'),
      // The simulated service inherits the first client's environment: every run carries the knob.
      env: {
        HCS_SANDBOX_HOME: winePath(home),
        HCSSIM_STORAGE_ROOT: winePath(join(home, 'sim-storage')),
        HCSSIM_VIDEO_TCP: `127.0.0.1:${rdpPort}`,
      },
    };
    const cli = (...args: string[]) => runCli(args, options);
    await runOk('vm-seed.mjs', ['win'], options);
    const run = await cli('run', '--isolation', 'vm', '-d', '--name', 'vm1', '--network', 'none', 'win');
    expect(run.exitCode, run.stderr).toBe(0);
    const inspect = await cli('inspect', '--json', 'vm1');
    const { id } = (JSON.parse(inspect.stdout) as { id: string }[])[0]!;

    // view, through the CLI, until the VM stops.
    const view = startCli(['view', 'vm1', '--no-launch', '--json'], options);
    wineChildren.push(view);
    const relay = await until(
      'view to print where it listens',
      () => printedJson<{ port: number; rdpFile: string; pipe: string }>(view),
      30_000,
    );
    expect(relay.pipe).toBe(`\\\\.\\pipe\\${id}.BasicSession`); // videoMonitorPipePath, as the document says
    const rdpFile = linuxPath(relay.rdpFile);
    expect(readFileSync(rdpFile, 'utf8')).toContain(`full address:s:127.0.0.1:${relay.port}\r\n`);

    // A frame arrives: xfreerdp opens the product's .rdp file (no security flags of its own).
    expect(lightShare(viewerScreen)).toBeLessThan(0.05);
    const xfreerdp = start('xfreerdp', [rdpFile, '/cert:ignore'], { DISPLAY: viewerScreen });
    await until('a frame on the viewer screen', () => lightShare(viewerScreen) > 0.5, 60_000);

    // One viewer at a time: a second connection is closed without a byte, and view says so.
    const second = await tcp(relay.port);
    expect(second).toBeDefined();
    const secondBytes: Buffer[] = [];
    second?.on('data', (d: Buffer) => secondBytes.push(d));
    await until('the second viewer to be closed', () => second?.closed, 10_000);
    expect(Buffer.concat(secondBytes).length).toBe(0);
    await until('view to report the refusal', () => /already connected: refused/.test(view.stderr()), 10_000);

    // Closing the viewer frees the slot: the next connection reaches the RDP server again.
    xfreerdp.kill('SIGTERM');
    await new Promise((resolve) =>
      xfreerdp.exitCode !== null ? resolve(null) : xfreerdp.once('exit', resolve),
    );
    const answer = await until('an RDP answer through the freed slot', async () => {
      const s = await tcp(relay.port);
      if (!s) return undefined;
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        s.once('data', (d: Buffer) => resolve(d));
        s.once('close', () => resolve(undefined));
        s.write(X224_RDP_REQUEST);
      });
      s.destroy();
      return reply;
    });
    expect(answer[0]).toBe(3); // a TPKT: the RDP server answered

    // `hcs-sandbox stop` from another process ends the view: exit 0, the .rdp file gone, the port closed.
    const stop = await cli('stop', 'vm1');
    expect(stop.exitCode, stop.stderr).toBe(0);
    const viewExit = await Promise.race([
      view.exited,
      new Promise((r) => setTimeout(r, 20_000, 'still running 20 s after the VM stopped')),
    ]);
    expect(viewExit, view.stderr()).toBe(0);
    expect(view.stderr()).toMatch(/the VM stopped: view closed\n$/);
    expect(view.stderr()).not.toMatch(/cannot open the VM's screen/);
    expect(existsSync(rdpFile)).toBe(false);
    expect(await tcp(relay.port)).toBeUndefined();

    // A stopped VM has no screen: exit 1 (a verb's failure, docs/cli.md), the code in --json.
    const stopped = await cli('view', 'vm1', '--no-launch', '--json');
    expect(stopped.exitCode).toBe(1);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ error: { code: 'SANDBOX_NOT_RUNNING' } });
    expect((await cli('rm', '-f', 'vm1')).exitCode).toBe(0);
  });
});

describe('the simulated video monitor pipe (test-host/sim/video_pipe.c)', () => {
  it("is served under the document's name while the VM runs, one client at a time, and held without a server", async () => {
    const r = await runOk<Record<string, unknown>>('view-pipe-rules.mjs', [], {
      instance: newInstance('vpipe'),
    });
    expect(r).toEqual({
      beforeStart: 'ENOENT', // created, not started: no worker, no pipe
      firstHeld: true, // no HCSSIM_VIDEO_TCP: accepted and held
      firstTakenOver: true, // a new client takes the console over (disco-vm)
      secondHeld: true,
      pausedServed: true,
      lastEndedWithVm: true,
      afterStop: 'ENOENT',
      bareVideo: 'ENOENT', // a VideoMonitor without ConnectionOptions: no known name, nothing served
    });
  });
});
