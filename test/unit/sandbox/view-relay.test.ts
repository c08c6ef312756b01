import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { ViewPortInUseError } from '../../../src/sandbox/view/errors.js';
import { type RelayEvent, startVideoRelay, type VideoRelay } from '../../../src/sandbox/view/relay.js';

// The relay between a viewer's TCP connection and a VM's video monitor pipe. On
// Linux a Unix socket stands in for the named pipe: Node's net opens both the same way.

/** A fake VM video pipe: records its connections; `onConnection` decides what each does. */
class FakeVideoPipe {
  readonly path: string;
  readonly connections: Socket[] = [];
  readonly #dir: string;
  readonly #server: Server;
  onConnection: (socket: Socket) => void = () => undefined;

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), 'view-pipe-'));
    this.path = join(this.#dir, 'vm.BasicSession');
    this.#server = createServer((socket) => {
      this.connections.push(socket);
      this.onConnection(socket);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(this.path, resolve));
  }

  async close(): Promise<void> {
    for (const s of this.connections) s.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ vm: FakeVideoPipe; relay: VideoRelay; events: RelayEvent[] }> {
  const vm = new FakeVideoPipe();
  await vm.listen();
  cleanups.push(() => vm.close());
  const events: RelayEvent[] = [];
  const relay = await startVideoRelay({ pipePath: vm.path, onEvent: (e) => events.push(e) });
  cleanups.push(() => relay.close());
  return { vm, relay, events };
}

function viewer(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
}

/** Reads `socket` until it has `bytes` bytes; resolves with their sha256. */
function readHash(socket: Socket, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  let got = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      got += chunk.length;
      if (got === bytes) resolve(hash.digest('hex'));
      if (got > bytes) reject(new Error(`got ${got} bytes, more than the ${bytes} sent`));
    });
    socket.once('error', reject);
  });
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Waits until `condition` holds (polling), or fails after `ms`. */
async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the video relay', () => {
  it('listens on 127.0.0.1 only, on a free port by default', async () => {
    const { relay } = await setup();
    expect(relay.port).toBeGreaterThan(0);
    const s = await viewer(relay.port);
    expect(s.remoteAddress).toBe('127.0.0.1');
    s.destroy();
  });

  it('is byte-transparent both ways at once (random binary data, sha256 compared)', async () => {
    const { vm, relay, events } = await setup();
    const fromVm = randomBytes(3 * 1024 * 1024 + 17);
    const toVm = randomBytes(5 * 1024 * 1024 + 3);
    let vmReceived: Promise<string> | undefined;
    vm.onConnection = (socket) => {
      vmReceived = readHash(socket, toVm.length);
      socket.write(fromVm);
    };
    const s = await viewer(relay.port);
    const viewerReceived = readHash(s, fromVm.length);
    s.write(toVm);
    await until(() => vmReceived !== undefined);
    expect(await viewerReceived).toBe(sha(fromVm));
    expect(await vmReceived).toBe(sha(toVm));
    s.destroy();
    await until(() => events.some((e) => e.type === 'viewer-closed'));
    expect(events.find((e) => e.type === 'viewer-closed')).toMatchObject({
      bytesToVm: toVm.length,
      bytesFromVm: fromVm.length,
    });
  });

  it('applies backpressure: a VM side that does not read stops the viewer side being read', async () => {
    const { vm, relay } = await setup();
    let vmSide: Socket | undefined;
    vm.onConnection = (socket) => {
      vmSide = socket;
      socket.pause();
    };
    const s = await viewer(relay.port);
    const data = randomBytes(64 * 1024 * 1024);
    const chunk = 256 * 1024;
    let handedToKernel = 0; // what the viewer's socket has written (each chunk's callback)
    const writing = (async () => {
      for (let i = 0; i < data.length; i += chunk) {
        const piece = data.subarray(i, i + chunk);
        if (!s.write(piece, () => (handedToKernel += piece.length))) await once(s, 'drain');
      }
    })();
    await until(() => vmSide !== undefined);
    await new Promise((r) => setTimeout(r, 500));
    // At most the kernel buffers and the streams' high-water marks are in flight; a relay
    // reading without backpressure would have taken (and held in memory) all 64 MB.
    expect(handedToKernel).toBeLessThan(32 * 1024 * 1024);
    const received = readHash(vmSide as Socket, data.length);
    vmSide?.resume();
    expect(await received).toBe(sha(data));
    await writing;
    s.destroy();
  }, 30_000);

  it('takes one viewer at a time: a second is refused and reported, the first keeps working', async () => {
    const { vm, relay, events } = await setup();
    vm.onConnection = (socket) => socket.on('data', (d) => socket.write(d)); // echo
    const first = await viewer(relay.port);
    await until(() => events.some((e) => e.type === 'viewer-connected'));
    expect(relay.viewerConnected).toBe(true);
    const second = await viewer(relay.port);
    const secondData: Buffer[] = [];
    second.on('data', (d: Buffer) => secondData.push(d));
    second.write('hello from the second');
    await closed(second);
    expect(Buffer.concat(secondData).length).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['viewer-connected', 'viewer-refused']);
    expect(vm.connections).toHaveLength(1); // the refused viewer never reached the VM
    const echoed = new Promise<string>((resolve) => first.once('data', (d) => resolve(String(d))));
    first.write('still here');
    expect(await echoed).toBe('still here');
    first.destroy();
  });

  it('frees the slot when the viewer closes: the next viewer gets through', async () => {
    const { vm, relay, events } = await setup();
    vm.onConnection = (socket) => socket.on('data', (d) => socket.write(d));
    const first = await viewer(relay.port);
    await until(() => events.some((e) => e.type === 'viewer-connected'));
    first.destroy();
    await until(() => !relay.viewerConnected);
    await closed(vm.connections[0] as Socket); // the VM side of that session is closed too
    const next = await viewer(relay.port);
    const echoed = new Promise<string>((resolve) => next.once('data', (d) => resolve(String(d))));
    next.write('next');
    expect(await echoed).toBe('next');
    expect(events.map((e) => e.type)).toEqual(['viewer-connected', 'viewer-closed', 'viewer-connected']);
    next.destroy();
  });

  it('gives the slot to a viewer that reconnects at once (the first connection ending meanwhile)', async () => {
    const { vm, relay, events } = await setup();
    vm.onConnection = (socket) => socket.on('data', (d) => socket.write(d));
    const first = await viewer(relay.port);
    await until(() => events.some((e) => e.type === 'viewer-connected'));
    // Connect before the end of the first is seen, then end it: a client retrying with other settings.
    const retry = viewer(relay.port);
    first.destroy();
    const next = await retry;
    const echoed = new Promise<string>((resolve) => next.once('data', (d) => resolve(String(d))));
    next.write('retried');
    expect(await echoed).toBe('retried');
    expect(events.map((e) => e.type)).not.toContain('viewer-refused');
    next.destroy();
  });

  it('ends the session when the VM side closes, and the viewer sees it', async () => {
    const { vm, relay, events } = await setup();
    const s = await viewer(relay.port);
    await until(() => vm.connections.length === 1);
    vm.connections[0]?.end();
    await closed(s);
    await until(() => !relay.viewerConnected);
    expect(events.at(-1)?.type).toBe('viewer-closed');
  });

  it('reports a pipe that cannot be opened and closes the viewer', async () => {
    const events: RelayEvent[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'view-nopipe-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const relay = await startVideoRelay({ pipePath: join(dir, 'absent'), onEvent: (e) => events.push(e) });
    cleanups.push(() => relay.close());
    const s = await viewer(relay.port);
    await closed(s);
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ type: 'pipe-unavailable', pipe: join(dir, 'absent') });
    expect(relay.viewerConnected).toBe(false);
  });

  it('close() releases everything: the port, the viewer and the pipe connection', async () => {
    const { vm, relay } = await setup();
    const s = await viewer(relay.port);
    await until(() => vm.connections.length === 1);
    expect(await relay.close()).toBe('closed');
    await closed(s);
    await closed(vm.connections[0] as Socket);
    await expect(viewer(relay.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await relay.done).toBe('closed');
    expect(await relay.close('vm-stopped')).toBe('closed'); // idempotent: the first reason stays
  });

  it('ends on its signal (reason aborted)', async () => {
    const vm = new FakeVideoPipe();
    await vm.listen();
    cleanups.push(() => vm.close());
    const controller = new AbortController();
    const relay = await startVideoRelay({ pipePath: vm.path, signal: controller.signal });
    controller.abort();
    expect(await relay.done).toBe('aborted');
    await expect(viewer(relay.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it.each([-1, 65536, 1.5, Number.NaN, '3389'])('refuses port %j before listening', async (port) => {
    await expect(startVideoRelay({ pipePath: '/x', port: port as number })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it.each(['', 'a\0b', 42])('refuses pipe path %j', async (pipePath) => {
    await expect(startVideoRelay({ pipePath: pipePath as string })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('says when the port asked for is taken', async () => {
    const { relay } = await setup();
    const error = await startVideoRelay({ pipePath: '/x', port: relay.port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ViewPortInUseError);
    expect(error).toMatchObject({ code: 'VIEW_PORT_IN_USE', port: relay.port });
    expect(String((error as Error).message)).toContain('--port');
  });
});
