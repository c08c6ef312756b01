import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  createSandboxMcpServer,
  defineTool,
  limits,
  type McpSession,
  TOOLS,
} from '../../../src/mcp/index.js';
import { ProcessSandboxHost } from '../../support/process-sandbox-host.js';

// The MCP server driven as an agent would: the SDK's Client over a linked
// in-memory transport, against a SandboxHost whose commands really run (sh)
// and whose files are real files (test/support/process-sandbox-host.ts).

const IMAGE = 'local/base:1';

let host: ProcessSandboxHost;
let client: Client;
let session: McpSession;
let logged: string;

async function connect(tools = TOOLS): Promise<void> {
  const made = createSandboxMcpServer({ host, version: '0.0.0-test', tools, log: (s) => (logged += s) });
  session = made.session;
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await made.server.connect(serverSide);
  client = new Client({ name: 'unit', version: '1.0.0' });
  await client.connect(clientSide);
}

beforeEach(async () => {
  host = new ProcessSandboxHost();
  logged = '';
  await connect();
});

afterEach(async () => {
  await client.close();
  await session.end();
  host.dispose();
});

interface Called {
  isError: boolean;
  text: string;
  data: Record<string, unknown>;
}

async function call(name: string, args: Record<string, unknown> = {}): Promise<Called> {
  const result = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text?: string }[];
    structuredContent?: Record<string, unknown>;
  };
  return {
    isError: result.isError === true,
    text: result.content.find((c) => c.type === 'text')?.text ?? '',
    data: result.structuredContent ?? {},
  };
}

async function ok(name: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${result.text}`);
  return result.data;
}

describe('hcs-sandbox MCP server', () => {
  it('lists its tools, each with a description and an input schema naming what it requires', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => [t.name, t.inputSchema.required ?? []])).toEqual([
      ['sandbox_create', ['image']],
      ['sandbox_list', []],
      ['sandbox_run', ['sandbox', 'command']],
      ['sandbox_read_file', ['sandbox', 'path']],
      ['sandbox_write_file', ['sandbox', 'path', 'content']],
      ['sandbox_list_files', ['sandbox', 'path']],
      ['sandbox_remove', ['sandbox']],
    ]);
    for (const tool of tools) expect(tool.description?.length).toBeGreaterThan(80);
    expect(tools.find((t) => t.name === 'sandbox_remove')?.annotations?.destructiveHint).toBe(true);
  });

  it('creates, lists, runs, writes, reads, lists files and removes', async () => {
    const created = await ok('sandbox_create', { image: IMAGE, name: 'box1', env: { GREETING: 'hi' } });
    expect(created).toMatchObject({
      name: 'box1',
      id: 'process-host-box1',
      status: 'running',
      isolation: 'process',
      persistent: false,
      network: 'none',
      removedWithSession: true,
    });
    expect((await ok('sandbox_list')).sandboxes).toEqual([expect.objectContaining({ name: 'box1' })]);

    const run = await ok('sandbox_run', {
      sandbox: 'box1',
      command: 'echo $GREETING; echo oops >&2; exit 3',
    });
    // A non-zero exit is a result for the model to read, not a failed call.
    expect(run).toMatchObject({
      exitCode: 3,
      stdout: 'hi\n',
      stderr: 'oops\n',
      timedOut: false,
      truncated: false,
    });
    const argv = await ok('sandbox_run', { sandbox: 'box1', command: ['echo', 'argv', 'form'] });
    expect(argv).toMatchObject({ exitCode: 0, stdout: 'argv form\n' });

    expect(
      await ok('sandbox_write_file', { sandbox: 'box1', path: 'C:\\work\\a.txt', content: 'héllo' }),
    ).toEqual({ path: 'C:\\work\\a.txt', bytes: 6 });
    // The file is where a command in the sandbox sees it.
    expect((await ok('sandbox_run', { sandbox: 'box1', command: 'cat a.txt', cwd: 'C:\\work' })).stdout).toBe(
      'héllo',
    );
    expect(await ok('sandbox_read_file', { sandbox: 'box1', path: 'C:\\work\\a.txt' })).toEqual({
      path: 'C:\\work\\a.txt',
      size: 6,
      encoding: 'utf8',
      content: 'héllo',
    });
    const listing = await ok('sandbox_list_files', { sandbox: 'box1', path: 'C:\\work' });
    expect(listing).toMatchObject({
      path: 'C:\\work',
      entries: [{ name: 'a.txt', type: 'file', size: 6, modified: expect.stringMatching(/^\d{4}-/) }],
      total: 1,
      truncated: false,
    });

    expect(await ok('sandbox_remove', { sandbox: 'box1' })).toEqual({ removed: 'box1' });
    expect(host.names()).toEqual([]);
    expect((await ok('sandbox_list')).sandboxes).toEqual([]);
  });

  it('reads bytes that are not UTF-8 as base64, and UTF-16 with its byte order mark as text', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    const binary = Buffer.from([0, 1, 2, 0xff, 0xc3]).toString('base64');
    await ok('sandbox_write_file', {
      sandbox: 'box1',
      path: 'C:\\b.bin',
      content: binary,
      encoding: 'base64',
    });
    expect(await ok('sandbox_read_file', { sandbox: 'box1', path: 'C:\\b.bin' })).toMatchObject({
      encoding: 'base64',
      content: binary,
      size: 5,
    });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('dir: ok\r\n', 'utf16le')]);
    await ok('sandbox_write_file', {
      sandbox: 'box1',
      path: 'C:\\out.txt',
      content: utf16.toString('base64'),
      encoding: 'base64',
    });
    expect(await ok('sandbox_read_file', { sandbox: 'box1', path: 'C:\\out.txt' })).toMatchObject({
      encoding: 'utf16le',
      content: 'dir: ok\r\n',
    });
  });

  it('refuses bad input by schema before anything reaches the host', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    host.calls.length = 0;
    for (const [tool, args, field] of [
      ['sandbox_run', { sandbox: 'box1', command: 42 }, 'command'],
      ['sandbox_run', { sandbox: 'box1', command: 'x', timeoutMs: -1 }, 'timeoutMs'],
      ['sandbox_create', { image: IMAGE, isolation: 'docker' }, 'isolation'],
      ['sandbox_create', {}, 'image'],
      ['sandbox_read_file', { sandbox: 'box1' }, 'path'],
      ['sandbox_write_file', { sandbox: 'box1', path: 'C:\\a', content: 'x', encoding: 'hex' }, 'encoding'],
    ] as const) {
      const result = await call(tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(result.text).toMatch(
        new RegExp(`^MCP error -32602: Input validation error: Invalid arguments for tool ${tool}:`),
      );
      expect(result.text).toContain(field);
    }
    expect(host.calls).toEqual([]);
  });

  it("maps a product error to a tool error with the product's code and message, never a stack", async () => {
    const missing = await call('sandbox_run', { sandbox: 'nope', command: 'echo hi' });
    expect(missing).toEqual({
      isError: true,
      text: 'SANDBOX_NOT_FOUND: No sandbox named "nope".',
      data: { error: { code: 'SANDBOX_NOT_FOUND', kind: 'not-found', message: 'No sandbox named "nope".' } },
    });
    const image = await call('sandbox_create', { image: 'local/missing:1' });
    expect(image.data.error).toMatchObject({ code: 'IMAGE_NOT_FOUND', kind: 'not-found' });
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    const taken = await call('sandbox_create', { image: IMAGE, name: 'box1' });
    expect(taken.data.error).toMatchObject({ code: 'SANDBOX_EXISTS', kind: 'conflict' });
    const path = await call('sandbox_read_file', { sandbox: 'box1', path: 'C:\\missing\\x.txt' });
    expect(path.data.error).toMatchObject({ code: 'PATH_NOT_FOUND', kind: 'not-found' });
    // The SDK's own checks (the command runner's) keep their field.
    const env = await call('sandbox_run', { sandbox: 'box1', command: 'true', env: { 'A=B': 'x' } });
    expect(env.data.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'env.A=B' });
    for (const result of [missing, image, taken, path, env]) expect(result.text).not.toMatch(/\n\s+at /);
    expect(logged).toBe('');
  });

  it('reports an unexpected error as INTERNAL with its message only, and logs its stack', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    const result = await call('sandbox_run', { sandbox: 'box1', command: 'x', cwd: 'C:\\\0bad' });
    expect(result.isError).toBe(true);
    expect(result.data.error).toMatchObject({ code: 'INTERNAL', kind: 'failure' });
    expect(result.text).not.toMatch(/\n\s+at /);
    expect(logged).toMatch(/^unexpected error in a tool call: .*\n\s+at /s);
  });

  it('caps output to its start and end with truncated set, and kills a command that writes without end', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    const big = await ok('sandbox_run', {
      sandbox: 'box1',
      command:
        'i=0; while [ $i -lt 3000 ]; do echo "line $i ................................"; i=$((i+1)); done',
    });
    const stdout = String(big.stdout);
    expect(big.truncated).toBe(true);
    expect(stdout.startsWith('line 0 ')).toBe(true);
    expect(stdout.endsWith('line 2999 ................................\n')).toBe(true);
    expect(stdout).toMatch(/\n\[\.\.\. \d+ characters left out \.\.\.\]\n/);
    expect(stdout.length).toBeLessThan(limits.RUN_OUTPUT_CHARS + 60);

    const endless = await ok('sandbox_run', { sandbox: 'box1', command: 'yes' });
    expect(endless).toMatchObject({ outputLimitReached: true, truncated: true, timedOut: false });
    expect(String(endless.stdout).length).toBeLessThan(limits.RUN_OUTPUT_CHARS + 60);
  }, 30_000);

  it('kills a command at its timeoutMs', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    const slow = await ok('sandbox_run', {
      sandbox: 'box1',
      command: 'echo started; sleep 20',
      timeoutMs: 300,
    });
    expect(slow).toMatchObject({ timedOut: true, stdout: 'started\n' });
    expect(slow.durationMs).toBeLessThan(10_000);
  });

  it('returns at timeoutMs plus the grace even when something the command started holds its output open', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    // setsid: out of the command's process group, so the kill leaves it holding stdout (as a process
    // a killed cmd.exe started can under Windows).
    const started = performance.now();
    const held = await ok('sandbox_run', {
      sandbox: 'box1',
      command: 'echo before; setsid sleep 8; echo never',
      timeoutMs: 200,
    });
    const took = performance.now() - started;
    expect(held).toMatchObject({ exitCode: null, timedOut: true, stdout: 'before\n' });
    expect(took).toBeGreaterThanOrEqual(limits.RUN_KILL_GRACE_MS);
    expect(took).toBeLessThan(limits.RUN_KILL_GRACE_MS + 2_500);
  }, 15_000);

  it('kills the command of a call the client cancels', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    const controller = new AbortController();
    const calling = client.callTool(
      { name: 'sandbox_run', arguments: { sandbox: 'box1', command: 'echo $$ > pid; exec sleep 30' } },
      undefined,
      { signal: controller.signal },
    );
    const pidFile = join(host.root, 'box1', 'pid');
    await vi.waitFor(() => expect(readFileSync(pidFile, 'utf8')).toMatch(/^\d+\n$/));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    controller.abort();
    await expect(calling).rejects.toThrow(/abort/i);
    // notifications/cancelled reaches the server, whose signal kills the command.
    await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(), { timeout: 3_000 });
  });

  it('refuses a file over the read cap before reading it, and a write over the write cap', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    await ok('sandbox_run', {
      sandbox: 'box1',
      command: `head -c ${limits.READ_FILE_BYTES + 1} /dev/zero > big.bin`,
    });
    host.calls.length = 0;
    const big = await call('sandbox_read_file', { sandbox: 'box1', path: 'C:\\big.bin' });
    expect(big.data.error).toMatchObject({ code: 'FILE_TOO_LARGE', kind: 'failure' });
    expect(big.text).toContain(`C:\\big.bin is ${limits.READ_FILE_BYTES + 1} bytes`);
    expect(host.calls.filter((c) => c.startsWith('read'))).toEqual([]);

    const content = Buffer.alloc(limits.WRITE_FILE_BYTES + 1).toString('base64');
    const write = await call('sandbox_write_file', {
      sandbox: 'box1',
      path: 'C:\\w.bin',
      content,
      encoding: 'base64',
    });
    expect(write.data.error).toMatchObject({ code: 'FILE_TOO_LARGE' });
  });

  it('removes the sandboxes it made when the session ends, except persistent ones; makes none after', async () => {
    await ok('sandbox_create', { image: IMAGE, name: 'temp1' });
    await ok('sandbox_create', { image: IMAGE, name: 'temp2' });
    const kept = await ok('sandbox_create', { image: IMAGE, name: 'kept', persistent: true });
    expect(kept).toMatchObject({ persistent: true, removedWithSession: false });
    // One the session did not make: reachable, never removed by the session's end.
    await host.create({ image: IMAGE, name: 'other' });
    expect((await ok('sandbox_run', { sandbox: 'other', command: 'echo x' })).stdout).toBe('x\n');

    expect(await session.end()).toEqual({ removed: ['temp1', 'temp2'], kept: ['kept'], failed: [] });
    expect(host.names()).toEqual(['kept', 'other']);
    const late = await call('sandbox_create', { image: IMAGE });
    expect(late.data.error).toMatchObject({ code: 'SESSION_ENDED', kind: 'invalid-state' });
  });

  it('lets a tool that applies to some sandboxes only join with no change to the others', async () => {
    // A desktop tool as a VM sandbox would get it: one module, `applies` checked before it runs.
    const screenshot = defineTool({
      name: 'sandbox_screenshot',
      title: 'Screenshot',
      description: 'A picture of the VM sandbox screen.',
      input: { sandbox: z.string() },
      applies: { check: (info) => info.isolation === 'vm', requirement: 'a VM sandbox (isolation vm)' },
      async run(args) {
        return {
          result: { sandbox: args.sandbox },
          images: [{ data: 'iVBORw0KGgo=', mimeType: 'image/png' }],
        };
      },
    });
    await client.close();
    await connect([...TOOLS, screenshot]);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual([
      ...TOOLS.map((t) => t.name),
      'sandbox_screenshot',
    ]);
    await ok('sandbox_create', { image: IMAGE, name: 'box1' });
    const refused = await call('sandbox_screenshot', { sandbox: 'box1' });
    expect(refused.data.error).toMatchObject({ code: 'TOOL_NOT_APPLICABLE', kind: 'invalid-state' });
    expect(refused.text).toContain('needs a VM sandbox (isolation vm)');
    await ok('sandbox_create', { image: IMAGE, name: 'vm1', isolation: 'vm' });
    const shot = await client.callTool({ name: 'sandbox_screenshot', arguments: { sandbox: 'vm1' } });
    expect(shot.content).toContainEqual({ type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' });
  });
});
