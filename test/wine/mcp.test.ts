import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  newInstance,
  repo,
  runCli,
  runOk,
  scripts,
  startInWine,
  type WineChild,
  winePath,
} from './harness.js';

// `hcs-sandbox mcp` as an MCP client runs it: the SDK's Client with its
// StdioClientTransport, the server being the built CLI in node.exe under Wine
// against the simulated host. Under Wine node.exe cannot take a Linux pipe as
// stdio, so the transport launches a Linux bridge (scripts/mcp-stdio-bridge.mjs)
// whose stdio a relay in node.exe (scripts/mcp-stdio-relay.mjs) joins, over
// loopback TCP, to the CLI's stdio on Windows pipes. The protocol bytes pass
// through unchanged.

const IMAGE = 'local/base:1';
const homes: string[] = [];
const relays: WineChild[] = [];

afterEach(() => {
  for (const relay of relays.splice(0)) {
    relay.child.kill('SIGKILL');
    relay.dispose();
  }
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Called {
  isError: boolean;
  text: string;
  data: Record<string, unknown>;
}

describe('hcs-sandbox mcp (CLI under Wine, the SDK client over stdio)', () => {
  it('creates, runs, writes and reads, lists, removes; the session’s sandboxes are gone after the client closes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hcs-mcp-'));
    homes.push(home);
    const options = {
      instance: newInstance('mcp'),
      env: { HCS_SANDBOX_HOME: winePath(home), HCSSIM_STORAGE_ROOT: winePath(join(home, 'sim-storage')) },
    };
    await runOk('sandbox-cli-seed.mjs', [], options);

    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(scripts, 'mcp-stdio-bridge.mjs')],
      stderr: 'pipe',
    });
    const port = new Promise<string>((resolve) => {
      let text = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /^PORT (\d+)$/m.exec(text);
        if (match?.[1]) resolve(match[1]);
      });
    });
    const client = new Client({ name: 'wine-test', version: '1.0.0' });
    const connected = client.connect(transport, { timeout: 60_000 });
    const relay = startInWine<{ exitCode: number }>(
      'mcp-stdio-relay.mjs',
      [await port, join(repo, 'dist', 'cli', 'main.js')],
      options,
    );
    relays.push(relay);
    await connected;

    const call = async (name: string, args: Record<string, unknown>): Promise<Called> => {
      const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as {
        isError?: boolean;
        content: { type: string; text?: string }[];
        structuredContent?: Record<string, unknown>;
      };
      return {
        isError: result.isError === true,
        text: result.content.find((c) => c.type === 'text')?.text ?? '',
        data: result.structuredContent ?? {},
      };
    };
    const ok = async (name: string, args: Record<string, unknown>) => {
      const result = await call(name, args);
      if (result.isError) throw new Error(`${name} failed: ${result.text}\n${relay.stderr()}`);
      return result.data;
    };

    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
      'sandbox_create',
      'sandbox_list',
      'sandbox_run',
      'sandbox_read_file',
      'sandbox_write_file',
      'sandbox_list_files',
      'sandbox_remove',
    ]);
    expect(await ok('sandbox_create', { image: IMAGE, name: 'mcp1' })).toMatchObject({
      name: 'mcp1',
      status: 'running',
      isolation: 'process',
      removedWithSession: true,
    });
    await ok('sandbox_create', { image: IMAGE, name: 'mcp2' });
    await ok('sandbox_create', { image: IMAGE, name: 'kept', persistent: true });

    expect(await ok('sandbox_run', { sandbox: 'mcp1', command: 'cmd /c echo hi' })).toMatchObject({
      exitCode: 0,
      stdout: 'hi\r\n',
      timedOut: false,
      truncated: false,
    });
    expect(
      await ok('sandbox_write_file', {
        sandbox: 'mcp1',
        path: 'C:\\work\\note.txt',
        content: 'from the agent',
      }),
    ).toEqual({ path: 'C:\\work\\note.txt', bytes: 14 });
    expect(await ok('sandbox_read_file', { sandbox: 'mcp1', path: 'C:\\work\\note.txt' })).toEqual({
      path: 'C:\\work\\note.txt',
      size: 14,
      encoding: 'utf8',
      content: 'from the agent',
    });
    expect(await ok('sandbox_list_files', { sandbox: 'mcp1', path: 'C:\\work' })).toMatchObject({
      entries: [{ name: 'note.txt', type: 'file', size: 14 }],
      truncated: false,
    });
    const listed = (await ok('sandbox_list', {})).sandboxes as { name: string }[];
    expect(listed.map((s) => s.name).sort()).toEqual(['kept', 'mcp1', 'mcp2']);
    // Killed at timeoutMs; the call answers within the grace even if ping (started by the killed
    // cmd) still holds the output open, as it does under the simulated host.
    const started = Date.now();
    const slow = await ok('sandbox_run', {
      sandbox: 'mcp1',
      command: 'cmd /c ping -n 30 127.0.0.1',
      timeoutMs: 1000,
    });
    expect(slow).toMatchObject({ timedOut: true });
    expect(Date.now() - started).toBeLessThan(15_000);
    const missing = await call('sandbox_run', { sandbox: 'nope', command: 'cmd /c echo hi' });
    expect(missing).toMatchObject({ isError: true, text: 'SANDBOX_NOT_FOUND: No sandbox named "nope".' });

    expect(await ok('sandbox_remove', { sandbox: 'mcp1' })).toEqual({ removed: 'mcp1' });
    expect(readdirSync(join(home, 'sandboxes')).sort()).toEqual(['kept.json', 'mcp2.json']);

    await client.close();
    // The server ends its session when its stdin closes: mcp2 removed, kept left, then it exits.
    const exitCode = await Promise.race([
      relay.exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error(relay.stderr())), 30_000)),
    ]);
    expect(exitCode).toBe(0);
    expect(relay.stderr()).toContain('session ended: removed mcp2; kept (persistent) kept\n');
    expect(readdirSync(join(home, 'sandboxes'))).toEqual(['kept.json']);
    expect(existsSync(join(home, 'scratch', 'mcp2'))).toBe(false);
    const ls = await runCli(['ls', '--all', '--json'], options);
    expect(
      (JSON.parse(ls.stdout) as { name: string; status: string }[]).map((s) => [s.name, s.status]),
    ).toEqual([['kept', 'running']]);
    expect((await runCli(['rm', '-f', 'kept'], options)).exitCode).toBe(0);
  }, 90_000);
});
