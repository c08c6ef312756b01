import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { ALICE, BOB, createSandbox, startTestServer, type TestServer } from './serve-harness.js';

interface Streamed {
  messages: Record<string, unknown>[];
  stdout: string;
  stderr: string;
  close: { code: number; reason: string };
}

function openStream(server: TestServer, name: string, token: string | undefined): WebSocket {
  const url = `${server.api.url.replace('http', 'ws')}/v1/sandboxes/${encodeURIComponent(name)}/commands/stream`;
  return new WebSocket(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

/** Runs one command over the stream route; `drive` may send stdin and control messages once started. */
async function stream(
  server: TestServer,
  name: string,
  start: Record<string, unknown>,
  drive: (ws: WebSocket) => void = () => {},
): Promise<Streamed> {
  const ws = openStream(server, name, BOB);
  const out: Streamed = { messages: [], stdout: '', stderr: '', close: { code: 0, reason: '' } };
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      out.messages.push(message);
      if (message.type === 'started') drive(ws);
      return;
    }
    const text = data.subarray(1).toString();
    if (data[0] === 1) out.stdout += text;
    else out.stderr += text;
  });
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'start', ...start }));
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  out.close = { code, reason: reason.toString() };
  return out;
}

describe('serve: streaming a command over a WebSocket', () => {
  it('streams stdout and stderr, takes stdin live, and ends with the exit code and close 1000', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, BOB);
    const result = await stream(server, name, { command: 'cat; echo done >&2; exit 7' }, (ws) => {
      ws.send(Buffer.from('line one\n'));
      ws.send(Buffer.from('line two\n'));
      ws.send(JSON.stringify({ type: 'stdin-end' }));
    });
    expect(result.messages[0]).toMatchObject({ type: 'started', pid: expect.any(Number) });
    expect(result.messages.at(-1)).toEqual({ type: 'exit', exitCode: 7, timedOut: false });
    expect(result.stdout).toBe('line one\nline two\n');
    expect(result.stderr).toBe('done\n');
    expect(result.close.code).toBe(1000);
    // The server logs the stream when its side has closed too.
    await vi.waitFor(() =>
      expect(server.logs).toContainEqual(
        expect.objectContaining({
          route: '/v1/sandboxes/{name}/commands/stream',
          status: 101,
          sandbox: name,
          token: 'bob',
        }),
      ),
    );
  });

  it('kills on a kill message; reports a timeout', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, BOB);
    const killed = await stream(server, name, { command: 'sleep 30' }, (ws) =>
      ws.send(JSON.stringify({ type: 'kill' })),
    );
    expect(killed.messages.at(-1)).toMatchObject({ type: 'exit', timedOut: false });
    expect((killed.messages.at(-1) as { exitCode: number }).exitCode).not.toBe(0);
    const timed = await stream(server, name, { command: 'sleep 30', timeoutMs: 100 });
    expect(timed.messages.at(-1)).toMatchObject({ type: 'exit', timedOut: true });
    expect(server.host.liveProcesses()).toEqual([]);
  });

  it('refuses a bad start message with an error and close 1008, a failing one with 1011', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, BOB);
    const bad = await stream(server, name, { command: 42 });
    expect(bad.messages).toEqual([
      {
        type: 'error',
        error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^Invalid command/) },
      },
    ]);
    expect(bad.close.code).toBe(1008);
    await server.call(`/v1/sandboxes/${name}/stop`, { method: 'POST', token: BOB });
    const stopped = await stream(server, name, { command: 'true' });
    expect(stopped.messages).toEqual([
      { type: 'error', error: expect.objectContaining({ code: 'SANDBOX_NOT_RUNNING' }) },
    ]);
    expect(stopped.close.code).toBe(1011);
  });

  it('refuses the upgrade without a token (401), for a sandbox of another token (404), with no socket opened', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, ALICE);
    for (const [token, status] of [
      [undefined, 401],
      ['wrong', 401],
      [BOB, 404],
    ] as const) {
      const ws = openStream(server, name, token);
      const [, res] = (await once(ws, 'unexpected-response')) as [
        unknown,
        { statusCode: number; headers: Record<string, string> },
      ];
      expect(res.statusCode).toBe(status);
      if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
      ws.on('error', () => {});
      ws.terminate();
    }
  });

  it('holds output while the client does not read (backpressure), and loses none of it', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, BOB);
    const ws = openStream(server, name, BOB);
    await once(ws, 'open');
    let bytes = 0;
    let exit: Record<string, unknown> | undefined;
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) bytes += data.length - 1;
      else if (JSON.parse(data.toString()).type === 'exit') exit = JSON.parse(data.toString());
    });
    // 32 MiB of output; the client stops reading its socket for a while.
    ws.send(JSON.stringify({ type: 'start', command: 'head -c 33554432 /dev/zero' }));
    ws.pause();
    await new Promise((r) => setTimeout(r, 500));
    // The command is still running: it could not write all of it while nobody read.
    expect(server.host.liveProcesses()).toHaveLength(1);
    ws.resume();
    await once(ws, 'close');
    expect(bytes).toBe(33554432);
    expect(exit).toMatchObject({ exitCode: 0 });
  }, 30_000);

  it('serves 20 clients at once', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, BOB);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stream(server, name, { command: `echo client ${i}` })),
    );
    results.forEach((r, i) => {
      expect(r.stdout).toBe(`client ${i}\n`);
      expect(r.messages.at(-1)).toMatchObject({ type: 'exit', exitCode: 0 });
    });
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        server
          .call(`/v1/sandboxes/${name}/commands`, {
            method: 'POST',
            token: BOB,
            body: { command: `echo ${i}` },
          })
          .then((r) => r.json()),
      ),
    );
    expect(runs.map((r) => (r as { stdout: string }).stdout)).toEqual(
      Array.from({ length: 20 }, (_, i) => `${i}\n`),
    );
  }, 30_000);

  it('kills the command when its client dies mid-stream, and removes the sandbox once the lease lapses', async () => {
    const server = await startTestServer({ leaseSeconds: 1, sweepMs: 100 });
    const name = await createSandbox(server, BOB);
    // A client in its own process, killed with SIGKILL while its command runs.
    const script = join(server.root, 'client.mjs');
    writeFileSync(
      script,
      `import { WebSocket } from ${JSON.stringify(require.resolve('ws').replace(/index\.js$/, 'wrapper.mjs'))};
const ws = new WebSocket(process.argv[2], { headers: { authorization: 'Bearer ${BOB}' } });
ws.on('open', () => ws.send(JSON.stringify({ type: 'start', command: 'sleep 60 & sleep 60; wait' })));
ws.on('message', (d, bin) => { if (!bin) console.log(d.toString()); });`,
    );
    const url = `${server.api.url.replace('http', 'ws')}/v1/sandboxes/${name}/commands/stream`;
    const client = spawn(process.execPath, [script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(client.stdout, 'data')) as [Buffer];
    expect(JSON.parse(line.toString())).toMatchObject({ type: 'started' });
    await vi.waitFor(() => expect(server.host.liveProcesses()).toHaveLength(1));
    // While the stream is open, the lease holds even past its second.
    await new Promise((r) => setTimeout(r, 1500));
    expect(server.host.names()).toEqual([name]);
    client.kill('SIGKILL');
    await vi.waitFor(() => expect(server.host.liveProcesses()).toEqual([]), { timeout: 5000 });
    await vi.waitFor(
      () => {
        expect(server.host.names()).toEqual([]);
        expect(server.logs).toContainEqual(
          expect.objectContaining({ event: 'expired', sandbox: name, reason: 'lease' }),
        );
      },
      { timeout: 5000 },
    );
  }, 30_000);
});

describe('serve: shutting down', () => {
  it('stops accepting, lets a running stream finish within the grace, and keeps the sandboxes', async () => {
    const server = await startTestServer({ shutdownGraceMs: 5000 });
    const name = await createSandbox(server, BOB);
    const running = stream(server, name, { command: 'sleep 0.5; echo finished' });
    await vi.waitFor(() => expect(server.host.liveProcesses()).toHaveLength(1));
    await server.api.close();
    const result = await running;
    expect(result.stdout).toBe('finished\n');
    expect(result.close.code).toBe(1000);
    expect(server.host.names()).toEqual([name]);
    await expect(fetch(`${server.api.url}/v1/health`)).rejects.toThrow();
  });

  it('cuts a stream still running after the grace, and kills its command', async () => {
    const server = await startTestServer({ shutdownGraceMs: 200 });
    const name = await createSandbox(server, BOB);
    const running = stream(server, name, { command: 'sleep 30' });
    await vi.waitFor(() => expect(server.host.liveProcesses()).toHaveLength(1));
    await server.api.close();
    expect((await running).close.code).toBe(1006);
    await vi.waitFor(() => expect(server.host.liveProcesses()).toEqual([]));
    expect(server.host.names()).toEqual([name]);
  });
});
