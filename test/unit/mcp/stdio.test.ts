import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { serveStdio } from '../../../src/mcp/index.js';
import { ProcessSandboxHost } from '../../support/process-sandbox-host.js';

// serveStdio as `hcs-sandbox mcp` runs it, its stdin and stdout being
// streams here: the client's messages in as newline-delimited JSON, the
// session ending when stdin ends (the client went away).

/** A client transport over the server's stdin/stdout streams (what StdioClientTransport does over a child's pipes). */
function streamTransport(toServer: PassThrough, fromServer: PassThrough): Transport {
  const buffer = new ReadBuffer();
  const transport: Transport = {
    async start() {
      fromServer.on('data', (chunk: Buffer) => {
        buffer.append(chunk);
        for (let message = buffer.readMessage(); message; message = buffer.readMessage())
          transport.onmessage?.(message);
      });
    },
    async send(message: JSONRPCMessage) {
      toServer.write(serializeMessage(message));
    },
    async close() {
      toServer.end();
      transport.onclose?.();
    },
  };
  return transport;
}

const hosts: ProcessSandboxHost[] = [];
afterEach(() => {
  for (const host of hosts.splice(0)) host.dispose();
});

describe('serveStdio', () => {
  it('serves the tools over stdin/stdout and removes the session’s sandboxes when stdin ends', async () => {
    const host = new ProcessSandboxHost();
    hosts.push(host);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const served = serveStdio({ host, version: '0.0.0-test', stdin, stdout, signals: [] });
    const client = new Client({ name: 'unit', version: '1.0.0' });
    await client.connect(streamTransport(stdin, stdout));
    for (const [name, persistent] of [
      ['temp', false],
      ['kept', true],
    ] as const)
      await client.callTool({
        name: 'sandbox_create',
        arguments: { image: 'local/base:1', name, persistent },
      });
    const run = await client.callTool({
      name: 'sandbox_run',
      arguments: { sandbox: 'temp', command: 'echo hi' },
    });
    expect(run.structuredContent).toMatchObject({ exitCode: 0, stdout: 'hi\n' });
    expect(host.names()).toEqual(['kept', 'temp']);

    await client.close(); // ends the server's stdin
    expect(await served).toEqual({ removed: ['temp'], kept: ['kept'], failed: [] });
    expect(host.names()).toEqual(['kept']);
  });

  it('ends the session on a signal too', async () => {
    const host = new ProcessSandboxHost();
    hosts.push(host);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const served = serveStdio({ host, version: '0.0.0-test', stdin, stdout, signals: ['SIGUSR2'] });
    const client = new Client({ name: 'unit', version: '1.0.0' });
    await client.connect(streamTransport(stdin, stdout));
    await client.callTool({ name: 'sandbox_create', arguments: { image: 'local/base:1', name: 'temp' } });
    process.kill(process.pid, 'SIGUSR2');
    expect(await served).toEqual({ removed: ['temp'], kept: [], failed: [] });
    expect(host.names()).toEqual([]);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
