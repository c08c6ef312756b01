import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newInstance, runOk, scripts, winePath } from './harness.js';

/**
 * The headless screen test (issue 14): a VM started through the simulated host
 * serves its video monitor pipe, which the simulator relays to a real RDP
 * server (freerdp-shadow-cli sharing an Xvfb screen, standard RDP security
 * only, as the VM worker's console). The product's relay runs in node.exe
 * under Wine, and Linux xfreerdp, given the product's own .rdp file, connects
 * to the relay on a second Xvfb screen. A frame arriving (that screen turning
 * from black to the shared screen's white) proves the relay byte-transparent
 * end to end and the .rdp file usable with RDP security; then one viewer at a
 * time, the slot freed on close, and the VM stopping ending the relay.
 * Tools: xvfb, freerdp2-shadow-x11, freerdp2-x11, x11-apps (test-host/prepare.sh).
 */

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'view-screen-'));
afterAll(() => {
  for (const child of children.reverse()) if (child.exitCode === null) child.kill('SIGKILL');
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

interface ViewResult {
  reason: string;
  events: { type: string; viewer?: string; error?: string }[];
  rdpFileLeft: boolean;
  pipeAfterStop: boolean;
  error?: unknown;
}

describe('hcs-sandbox view, headless', () => {
  it('relays the simulated video pipe to a real RDP server: a frame arrives, one viewer at a time, ends with the VM', async () => {
    const shared = await xvfb('-wr'); // the "VM screen": white
    const viewerScreen = await xvfb('-br'); // where xfreerdp draws: black until a frame arrives
    const rdpPort = await freePort();
    start('freerdp-shadow-cli', [`/bind-address:127.0.0.1`, `/port:${rdpPort}`, '/sec:rdp', '-auth'], {
      DISPLAY: shared,
    });
    await until('the RDP server', async () => {
      const s = await tcp(rdpPort);
      s?.destroy();
      return s !== undefined;
    });

    // The VM and the product's relay, in node.exe under Wine.
    const ready = join(dir, 'ready.json');
    const command = join(dir, 'stop');
    const resultFile = join(dir, 'result.json');
    const script = start(
      'wine',
      [
        process.env.HCS_TEST_NODE_EXE as string,
        join(scripts, 'view-screen.mjs'),
        winePath(ready),
        winePath(command),
      ],
      {
        HCS_TEST_RESULT_FILE: resultFile,
        NODE_OPTIONS: `--import=file:///Z:${join(import.meta.dirname, 'wine-shims.mjs')}`,
        HCSSIM_INSTANCE: newInstance('view'),
        HCSSIM_VIDEO_TCP: `127.0.0.1:${rdpPort}`,
      },
    );
    const scriptExit = new Promise<number | null>((resolve) => script.once('exit', resolve));
    const relay = await until(
      'the relay',
      () =>
        existsSync(ready)
          ? (JSON.parse(readFileSync(ready, 'utf8')) as { port: number; rdpFile: string; pipe: string })
          : undefined,
      60_000,
    );
    expect(relay.pipe).toMatch(/^\\\\\.\\pipe\\hcssb-view-\d+\.BasicSession$/);
    const rdpFile = linuxPath(relay.rdpFile);
    expect(readFileSync(rdpFile, 'utf8')).toContain(`full address:s:127.0.0.1:${relay.port}\r\n`);

    // A frame arrives: xfreerdp opens the product's .rdp file (no security flags of its own).
    expect(lightShare(viewerScreen)).toBeLessThan(0.05);
    const xfreerdp = start('xfreerdp', [rdpFile, '/cert:ignore'], { DISPLAY: viewerScreen });
    await until('a frame on the viewer screen', () => lightShare(viewerScreen) > 0.5, 60_000);

    // One viewer at a time: a second connection is closed without a byte.
    const second = await tcp(relay.port);
    expect(second).toBeDefined();
    const secondBytes: Buffer[] = [];
    second?.on('data', (d: Buffer) => secondBytes.push(d));
    await until('the second viewer to be closed', () => second?.closed, 10_000);
    expect(Buffer.concat(secondBytes).length).toBe(0);

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

    // Stopping the VM ends the relay, removes the .rdp file, and the pipe is gone.
    writeFileSync(command, 'stop');
    expect(await scriptExit).toBe(0);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as ViewResult;
    expect(result.error).toBeUndefined();
    expect(result.reason).toBe('vm-stopped');
    expect(result.rdpFileLeft).toBe(false);
    expect(result.pipeAfterStop).toBe(false);
    // xfreerdp may connect twice (a TLS attempt the server refuses, then RDP security): count, not order.
    const types = result.events.map((e) => e.type);
    expect(types.filter((t) => t === 'viewer-refused')).toHaveLength(1);
    expect(types.filter((t) => t === 'viewer-connected').length).toBeGreaterThanOrEqual(2);
    expect(types).not.toContain('pipe-unavailable');
    expect(await tcp(relay.port)).toBeUndefined();
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
