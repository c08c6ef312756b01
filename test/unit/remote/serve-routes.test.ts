import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../src/remote/server/index.js';
import { OPERATIONS } from '../../../src/remote/server/openapi.js';
import { ALICE, BOB, createSandbox, startTestServer } from './serve-harness.js';

const docs = join(import.meta.dirname, '..', '..', '..', 'docs');

/** Every route the API has, with a path that reaches it (sandbox `s`). */
const ROUTES: [string, string][] = [
  ['GET', '/v1/openapi.json'],
  ['POST', '/v1/sandboxes'],
  ['GET', '/v1/sandboxes'],
  ['GET', '/v1/sandboxes/s'],
  ['DELETE', '/v1/sandboxes/s'],
  ['POST', '/v1/sandboxes/s/stop'],
  ['POST', '/v1/sandboxes/s/start'],
  ['POST', '/v1/sandboxes/s/kill'],
  ['POST', '/v1/sandboxes/s/keepalive'],
  ['POST', '/v1/sandboxes/s/commands'],
  ['GET', '/v1/sandboxes/s/commands/stream'],
  ['GET', '/v1/sandboxes/s/files?path=/a'],
  ['PUT', '/v1/sandboxes/s/files?path=/a'],
  ['DELETE', '/v1/sandboxes/s/files?path=/a'],
  ['GET', '/v1/sandboxes/s/files/list?path=/'],
  ['GET', '/v1/images'],
  ['POST', '/v1/images/pull'],
  ['GET', '/v1/nothing-here'],
];

describe('serve: auth', () => {
  it('answers health without a token, and nothing about the host', async () => {
    const server = await startTestServer();
    const res = await server.call('/v1/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: '0.0.0-test', api: 1 });
  });

  it.each(ROUTES)(
    '%s %s: 401 without a token, with a wrong one, or a malformed header',
    async (method, path) => {
      const server = await startTestServer();
      const name = await createSandbox(server, ALICE, { name: 's' });
      expect(name).toBe('s');
      for (const headers of [
        {},
        { authorization: `Bearer ${ALICE}x` },
        { authorization: ALICE },
        { authorization: 'Basic YTpi' },
      ]) {
        const res = await server.call(path, {
          method,
          headers,
          ...(method !== 'GET' && method !== 'DELETE' && { body: {} }),
        });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      }
      // Nothing was done: the sandbox is still there, untouched.
      expect(server.host.names()).toEqual(['s']);
      // The log never holds a token.
      expect(JSON.stringify(server.logs)).not.toContain(ALICE.slice(0, 20));
    },
  );
});

describe('serve: sandboxes', () => {
  it('creates, lists, inspects, stops, starts, kills, keeps alive and removes', async () => {
    const server = await startTestServer();
    const created = await server.call('/v1/sandboxes', {
      method: 'POST',
      token: ALICE,
      body: { image: 'local/base:1', name: 'one', memoryMB: 512, env: { A: '1' } },
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      name: 'one',
      status: 'running',
      memoryMB: 512,
      persistent: false,
    });

    const list = (await (await server.call('/v1/sandboxes', { token: ALICE })).json()) as {
      sandboxes: { name: string }[];
    };
    expect(list.sandboxes.map((s) => s.name)).toEqual(['one']);
    // Bob sees none of Alice's, and her sandbox does not exist for him.
    expect(await (await server.call('/v1/sandboxes', { token: BOB })).json()).toEqual({ sandboxes: [] });
    const bobs = await server.call('/v1/sandboxes/one', { token: BOB });
    expect(bobs.status).toBe(404);
    expect(await bobs.json()).toMatchObject({ error: { code: 'SANDBOX_NOT_FOUND' } });
    const bobDelete = await server.call('/v1/sandboxes/one', { method: 'DELETE', token: BOB });
    expect(bobDelete.status).toBe(404);

    expect(await (await server.call('/v1/sandboxes/one', { token: ALICE })).json()).toMatchObject({
      name: 'one',
    });
    const stopped = await server.call('/v1/sandboxes/one/stop', {
      method: 'POST',
      token: ALICE,
      body: { timeoutMs: 1000 },
    });
    expect(await stopped.json()).toMatchObject({ status: 'stopped' });
    const notRunning = await server.call('/v1/sandboxes/one/commands', {
      method: 'POST',
      token: ALICE,
      body: { command: 'true' },
    });
    expect(notRunning.status).toBe(409);
    expect(await notRunning.json()).toMatchObject({ error: { code: 'SANDBOX_NOT_RUNNING' } });
    const started = await server.call('/v1/sandboxes/one/start', { method: 'POST', token: ALICE });
    expect(await started.json()).toMatchObject({ status: 'running' });
    const killed = await server.call('/v1/sandboxes/one/kill', { method: 'POST', token: ALICE });
    expect(await killed.json()).toMatchObject({ status: 'stopped' });
    expect((await server.call('/v1/sandboxes/one/keepalive', { method: 'POST', token: ALICE })).status).toBe(
      204,
    );
    expect((await server.call('/v1/sandboxes/one', { method: 'DELETE', token: ALICE })).status).toBe(204);
    expect(server.host.names()).toEqual([]);
    expect((await server.call('/v1/sandboxes/one', { token: ALICE })).status).toBe(404);

    // One log line per request: route template, sandbox, status, token name.
    const line = server.logs.find((l) => l.method === 'DELETE' && l.status === 204);
    expect(line).toMatchObject({ route: '/v1/sandboxes/{name}', sandbox: 'one', token: 'alice' });
    expect(Object.keys(line ?? {}).sort()).toEqual([
      'method',
      'ms',
      'route',
      'sandbox',
      'status',
      'time',
      'token',
    ]);
  });

  it('runs a command: exit code, text or base64 output, stdin, env, cwd, timeout', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, BOB);
    const run = async (body: unknown) => {
      const res = await server.call(`/v1/sandboxes/${name}/commands`, { method: 'POST', token: BOB, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    expect(await run({ command: 'echo out; echo err >&2; exit 3' })).toEqual({
      status: 200,
      body: { exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false },
    });
    expect((await run({ command: 'cat', stdin: Buffer.from('héllo').toString('base64') })).body.stdout).toBe(
      'héllo',
    );
    expect((await run({ command: 'printf "\\377\\001"', encoding: 'base64' })).body.stdout).toBe(
      Buffer.of(255, 1).toString('base64'),
    );
    expect((await run({ command: 'echo $GREETING', env: { GREETING: 'hi' } })).body.stdout).toBe('hi\n');
    await server.call(`/v1/sandboxes/${name}/files?path=${encodeURIComponent('C:\\work\\x')}`, {
      method: 'PUT',
      token: BOB,
      raw: 'x',
    });
    expect((await run({ command: 'ls', cwd: 'C:\\work' })).body.stdout).toBe('x\n');
    expect((await run({ command: 'sleep 5', timeoutMs: 100 })).body).toMatchObject({ timedOut: true });
  });

  it('kills a command whose output passes the cap: 413 OUTPUT_TOO_LARGE', async () => {
    const server = await startTestServer({ outputLimitBytes: 100_000 });
    const name = await createSandbox(server, BOB);
    const res = await server.call(`/v1/sandboxes/${name}/commands`, {
      method: 'POST',
      token: BOB,
      body: { command: 'yes' },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'OUTPUT_TOO_LARGE' } });
    expect(server.host.liveProcesses()).toEqual([]);
  });
});

describe('serve: bad requests get 4xx with a code, never a crash', () => {
  it.each([
    ['not JSON', '{"image":', 400, 'MALFORMED_BODY'],
    ['an array', '[1]', 400, 'MALFORMED_BODY'],
    ['a string', '"x"', 400, 'MALFORMED_BODY'],
    ['no image', '{}', 400, 'INVALID_ARGUMENT'],
    ['a wrong type', '{"image":"local/base:1","memoryMB":"lots"}', 400, 'INVALID_ARGUMENT'],
    [
      'a host path',
      '{"image":"local/base:1","mappedFolders":[{"hostPath":"/etc","sandboxPath":"C:\\\\x"}]}',
      400,
      'INVALID_ARGUMENT',
    ],
    ['an unknown field', '{"image":"local/base:1","memoryMb":5}', 400, 'INVALID_ARGUMENT'],
    ['an unknown image', '{"image":"local/nope:1"}', 404, 'IMAGE_NOT_FOUND'],
  ])('create with %s', async (_, raw, status, code) => {
    const server = await startTestServer();
    const res = await server.call('/v1/sandboxes', {
      method: 'POST',
      token: BOB,
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).not.toMatch(/at .*\.ts:\d+/);
    // The server still answers.
    expect((await server.call('/v1/health')).status).toBe(200);
  });

  it('names the field of a host path it refuses', async () => {
    const server = await startTestServer();
    const res = await server.call('/v1/sandboxes', {
      method: 'POST',
      token: BOB,
      body: { image: 'local/base:1', home: '/tmp' },
    });
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^Invalid home: .*not accepted remotely/,
    );
  });

  it('refuses a JSON body over 1 MiB with 413, declared or streamed', async () => {
    const server = await startTestServer();
    const big = JSON.stringify({ image: 'local/base:1', env: { A: 'x'.repeat(1024 * 1024) } });
    const declared = await server.call('/v1/sandboxes', {
      method: 'POST',
      token: BOB,
      raw: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    const streamed = await server.call('/v1/sandboxes', {
      method: 'POST',
      token: BOB,
      raw: new Blob([big]).stream(),
      headers: { 'content-type': 'application/json' },
    });
    expect(streamed.status).toBe(413);
    expect(server.host.names()).toEqual([]);
  });

  it('answers unknown routes 404 and wrong methods 405, with codes', async () => {
    const server = await startTestServer();
    const missing = await server.call('/v1/nope', { token: BOB });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    const method = await server.call('/v1/sandboxes', { method: 'PUT', token: BOB });
    expect(method.status).toBe(405);
    expect(await method.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    const badName = await server.call('/v1/sandboxes/%E0%A4%A', { token: BOB });
    expect(badName.status).toBe(400);
    const noPath = await server.call('/v1/sandboxes/x/files', { token: BOB });
    expect(await noPath.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });

  it.each([
    ['headers', 'GET /v1/health HTTP/1.1\r\nHost: x\r\n'],
    [
      'body',
      `POST /v1/sandboxes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${BOB}\r\nContent-Length: 10\r\n\r\n{`,
    ],
  ])('answers a client too slow with its %s 408 REQUEST_TIMEOUT, and lets it go', async (_, sent) => {
    const server = await startTestServer({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.api.port, '127.0.0.1', () => socket.write(sent));
      let text = '';
      socket.on('data', (c) => {
        text += c;
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1.1 408 [\s\S]*"code":"REQUEST_TIMEOUT"/);
    expect((await server.call('/v1/health')).status).toBe(200);
  });
});

describe('serve: files', () => {
  it('writes, reads, lists and removes files; a missing one is 404 PATH_NOT_FOUND', async () => {
    const server = await startTestServer();
    const name = await createSandbox(server, BOB);
    const at = (route: string, path: string, extra = '') =>
      `/v1/sandboxes/${name}/${route}?path=${encodeURIComponent(path)}${extra}`;
    expect(
      (await server.call(at('files', 'C:\\data\\a.txt'), { method: 'PUT', token: BOB, raw: 'hello' })).status,
    ).toBe(204);
    const read = await server.call(at('files', 'C:\\data\\a.txt'), { token: BOB });
    expect(read.headers.get('content-type')).toBe('application/octet-stream');
    expect(await read.text()).toBe('hello');
    const list = (await (await server.call(at('files/list', 'C:\\data'), { token: BOB })).json()) as {
      entries: unknown[];
    };
    // A folder is listed, not read.
    const folder = await server.call(at('files', 'C:\\data'), { token: BOB });
    expect(folder.status).toBe(400);
    expect(await folder.json()).toMatchObject({
      error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^Invalid path: expected a file/) },
    });
    expect(list.entries).toEqual([
      { name: 'a.txt', type: 'file', size: 5, modified: expect.stringMatching(/^\d{4}-/) },
    ]);
    expect(
      (await server.call(at('files', 'C:\\data', '&recursive=false'), { method: 'DELETE', token: BOB }))
        .status,
    ).toBe(409);
    expect(
      (await server.call(at('files', 'C:\\data', '&recursive=maybe'), { method: 'DELETE', token: BOB }))
        .status,
    ).toBe(400);
    expect(
      (await server.call(at('files', 'C:\\data', '&recursive=true'), { method: 'DELETE', token: BOB }))
        .status,
    ).toBe(204);
    const gone = await server.call(at('files', 'C:\\data\\a.txt'), { token: BOB });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: { code: 'PATH_NOT_FOUND' } });
  });

  it('round-trips a 64 MiB file, checksummed, and refuses one over --max-file-bytes with 413', async () => {
    const server = await startTestServer({ maxFileBytes: 64 * 1024 * 1024 });
    const name = await createSandbox(server, BOB);
    const data = randomBytes(64 * 1024 * 1024);
    const sum = createHash('sha256').update(data).digest('hex');
    const url = `/v1/sandboxes/${name}/files?path=${encodeURIComponent('C:\\big.bin')}`;
    expect(
      (await server.call(url, { method: 'PUT', token: BOB, raw: new Blob([data]).stream() })).status,
    ).toBe(204);
    const back = Buffer.from(await (await server.call(url, { token: BOB })).arrayBuffer());
    expect(back.length).toBe(data.length);
    expect(createHash('sha256').update(back).digest('hex')).toBe(sum);
    const over = await server.call(url, {
      method: 'PUT',
      token: BOB,
      raw: new Blob([data, Buffer.of(1)]).stream(),
    });
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    // No temporary file is left in the store.
    expect(readdirSafe(join(server.root, 'serve-tmp'))).toEqual([]);
  }, 60_000);
});

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

describe('serve: images and the OpenAPI document', () => {
  it('lists and pulls images, the pull as NDJSON ending in done or error', async () => {
    const server = await startTestServer();
    expect(await (await server.call('/v1/images', { token: BOB })).json()).toMatchObject({
      images: [{ reference: 'local/base:1' }],
    });
    const pull = async (reference: string) => {
      const res = await server.call('/v1/images/pull', { method: 'POST', token: BOB, body: { reference } });
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      return (await res.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string });
    };
    const ok = await pull('local/base:1');
    expect(ok.map((l) => l.type)).toEqual(['progress', 'progress', 'done']);
    expect(ok.at(-1)).toMatchObject({ image: { reference: 'local/base:1' } });
    expect((await pull('local/nope:1')).at(-1)).toMatchObject({
      type: 'error',
      error: { code: 'IMAGE_NOT_FOUND' },
    });
    expect((await server.call('/v1/images/pull', { method: 'POST', token: BOB, body: {} })).status).toBe(400);
  });

  it('serves the OpenAPI document, equal to docs/remote-api.openapi.json, describing every route', async () => {
    const server = await startTestServer();
    const served = await (await server.call('/v1/openapi.json', { token: BOB })).json();
    expect(served).toEqual(openApiDocument('0.0.0-test'));
    const version = (
      JSON.parse(readFileSync(join(docs, '..', 'package.json'), 'utf8')) as { version: string }
    ).version;
    const file = join(docs, 'remote-api.openapi.json');
    // UPDATE_OPENAPI=1 npx vitest run --project unit test/unit/remote/serve-routes.test.ts rewrites it.
    if (process.env.UPDATE_OPENAPI === '1')
      writeFileSync(file, `${JSON.stringify(openApiDocument(version), null, 2)}\n`);
    const checkedIn = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    expect(
      checkedIn,
      'regenerate: UPDATE_OPENAPI=1 npx vitest run --project unit test/unit/remote/serve-routes.test.ts',
    ).toEqual(openApiDocument(version));
    const described = Object.entries(OPERATIONS).flatMap(([t, ms]) =>
      Object.keys(ms).map((m) => `${m.toUpperCase()} ${t}`),
    );
    expect(described.sort()).toEqual([...server.api.routes].sort());
  });
});
