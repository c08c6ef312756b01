import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { newInstance, repo, runOk, startCli, type WineChild, winePath } from './harness.js';

/**
 * `hcs-sandbox serve` as a user starts it (dist/cli/main.js in node.exe under
 * Wine, on the simulated host, with its own store and token), driven from this
 * Linux process with fetch and ws, as a remote client would: health, 401,
 * create a process-isolated sandbox, run a command, stream one, write, read and
 * list a file, remove it all, and the request log on stderr.
 */

const dirs: string[] = [];
const children: WineChild[] = [];
afterAll(async () => {
  for (const c of children) {
    if (c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill('SIGKILL');
      await c.exited;
    }
    c.dispose();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('hcs-sandbox serve (CLI under Wine, client on Linux)', () => {
  it('serves health, refuses without a token, and runs the sandbox routes end to end', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hcs-serve-'));
    dirs.push(home);
    const options = {
      instance: newInstance('serve'),
      env: { HCS_SANDBOX_HOME: winePath(home), HCSSIM_STORAGE_ROOT: winePath(join(home, 'sim-storage')) },
    };
    await runOk('sandbox-cli-seed.mjs', [], options);
    const port = await freePort();
    const serve = startCli(['serve', '--listen', `127.0.0.1:${port}`, '--json'], options);
    children.push(serve);
    const started = await until('serve to listen', () => {
      const text = serve.stdout();
      if (serve.child.exitCode !== null)
        throw new Error(`serve exited ${serve.child.exitCode}: ${serve.stderr()}`);
      return text.includes('}') ? (JSON.parse(text) as { url: string; tokenPath: string }) : undefined;
    });
    expect(started.url).toBe(`http://127.0.0.1:${port}`);
    // Its own token, in the store root (a Windows path as node.exe sees it).
    expect(started.tokenPath.toLowerCase()).toBe(winePath(join(home, 'serve-token.txt')).toLowerCase());
    const token = readFileSync(join(home, 'serve-token.txt'), 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${started.url}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
      });
    const json = (body: unknown) => ({
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

    expect(await (await fetch(`${started.url}/v1/health`)).json()).toEqual({
      status: 'ok',
      version: expect.any(String),
      api: 1,
    });
    const refused = await fetch(`${started.url}/v1/sandboxes`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });

    const created = await call(
      '/v1/sandboxes',
      json({ image: 'local/base:1', name: 'remote1', isolation: 'process', network: 'none' }),
    );
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      name: 'remote1',
      status: 'running',
      isolation: 'process',
      persistent: false,
    });
    expect(
      ((await (await call('/v1/sandboxes')).json()) as { sandboxes: { name: string }[] }).sandboxes.map(
        (s) => s.name,
      ),
    ).toEqual(['remote1']);

    const ran = await call(
      '/v1/sandboxes/remote1/commands',
      json({ command: 'cmd /c echo hi from remote& echo oops 1>&2& exit 3' }),
    );
    expect(await ran.json()).toEqual({
      exitCode: 3,
      stdout: 'hi from remote\r\n',
      stderr: 'oops \r\n',
      timedOut: false,
    });

    // A streamed command: started, its output on channel 1, then exit and close 1000.
    const ws = new WebSocket(`${started.url.replace('http', 'ws')}/v1/sandboxes/remote1/commands/stream`, {
      headers: auth,
    });
    const messages: unknown[] = [];
    let stdout = '';
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary && data[0] === 1) stdout += data.subarray(1).toString();
      else if (!isBinary) messages.push(JSON.parse(data.toString()));
    });
    await once(ws, 'open');
    ws.send(JSON.stringify({ type: 'start', command: ['cmd', '/c', 'echo', 'streamed'] }));
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1000);
    expect(messages[0]).toMatchObject({ type: 'started', pid: expect.any(Number) });
    expect(messages.at(-1)).toEqual({ type: 'exit', exitCode: 0, timedOut: false });
    expect(stdout).toBe('streamed\r\n');

    const file = (route: string, path: string) =>
      `/v1/sandboxes/remote1/${route}?path=${encodeURIComponent(path)}`;
    const bytes = Buffer.from('remote bytes \u00e9\n');
    expect((await call(file('files', 'C:\\data\\a.txt'), { method: 'PUT', body: bytes })).status).toBe(204);
    expect(Buffer.from(await (await call(file('files', 'C:\\data\\a.txt'))).arrayBuffer())).toEqual(bytes);
    expect(await (await call(file('files/list', 'C:\\data'))).json()).toEqual({
      entries: [{ name: 'a.txt', type: 'file', size: bytes.length, modified: expect.any(String) }],
    });
    expect((await call(file('files', 'C:\\data\\a.txt'), { method: 'DELETE' })).status).toBe(204);
    expect((await call(file('files', 'C:\\data\\a.txt'))).status).toBe(404);

    // The SDK example, unchanged, from a plain Linux node (no koffi, no Wine) against this
    // server: only its connect line (HCS_SANDBOX_HOST) chooses the remote host.
    const example = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(repo, 'examples', 'sandbox.mjs')],
        {
          env: {
            ...process.env,
            HCS_SANDBOX_HOST: started.url,
            HCS_SANDBOX_TOKEN: token,
            SANDBOX_IMAGE: 'local/base:1',
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(example.stderr).toBe('');
    expect(example.code).toBe(0);
    expect(example.stdout).toBe('hello from a sandbox (exit code 0)\nwritten from the host\n');

    expect((await call('/v1/sandboxes/remote1', { method: 'DELETE' })).status).toBe(204);
    expect((await call('/v1/sandboxes/remote1')).status).toBe(404);
    expect(await (await call('/v1/sandboxes')).json()).toEqual({ sandboxes: [] });

    // One NDJSON line per request on stderr, never the token.
    const lines = serve
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        method: 'DELETE',
        route: '/v1/sandboxes/{name}',
        sandbox: 'remote1',
        status: 204,
        token: 'local',
      }),
    );
    expect(serve.stderr()).not.toContain(token);

    // (Ctrl-C's graceful stop is a unit test: a signal to wine does not reach node.exe's handlers.)
  }, 90_000);
});
