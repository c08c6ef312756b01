import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandExitError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  Sandbox,
  type SandboxHost,
  TimeoutError,
} from '../../../src/index.js';
import { statusOfCode } from '../../../src/remote/client/errors.js';
import {
  connectRemote,
  RemoteAuthError,
  RemoteConflictError,
  RemoteError,
  type RemoteHost,
  RemoteInvalidRequestError,
  RemoteNotFoundError,
  RemoteQuotaError,
  RemoteUnavailableError,
  RemoteUnreachableError,
  RemoteUnsupportedError,
} from '../../../src/remote/client/index.js';
import {
  LINUX_IMAGE as IMAGE,
  SMALL_TOKEN,
  startTestServe,
  type TestServe,
  TOKEN,
} from '../../support/remote-serve.js';

let server: TestServe;
let host: RemoteHost;
const scratch = mkdtempSync(join(tmpdir(), 'hcs-sandbox-remote-'));

beforeAll(async () => {
  server = await startTestServe();
  host = await connectRemote({ url: server.url, token: TOKEN });
});
afterEach(async () => {
  await host.close();
  for (const info of await host.list()) await (await host.open(info.name)).remove();
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('connect', () => {
  it('Sandbox.connect returns a host that answers health', async () => {
    const remote = await Sandbox.connect({ url: `${server.url}/`, token: TOKEN });
    expect(await remote.health()).toEqual({ status: 'ok', version: '0.1.0-test', api: 1 });
    expect(remote.url).toBe(server.url);
  });

  it('the local Sandbox class and a RemoteHost are both SandboxHosts (checked by tsc)', () => {
    const hosts: SandboxHost[] = [Sandbox, host];
    expect(hosts.map((h) => typeof h.create)).toEqual(['function', 'function']);
  });

  it('refuses a URL that is not http(s), naming the field', async () => {
    await expect(connectRemote({ url: 'ftp://x' })).rejects.toMatchObject({
      field: 'url',
      code: 'INVALID_ARGUMENT',
    });
    await expect(connectRemote({ url: 'not a url' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('a server that is not there is RemoteUnreachableError naming the URL and what to check', async () => {
    // A port that was just free: nothing listens there.
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((resolve) => gone.close(resolve));
    const error = await connectRemote({ url, token: TOKEN }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnreachableError);
    expect(error).toMatchObject({ code: 'REMOTE_UNREACHABLE', kind: 'unavailable', status: 0, url });
    expect((error as Error).message).toContain(`${url}: connect ECONNREFUSED`);
    expect((error as Error).message).toMatch(/Check the URL/);
  });

  it('a request with no answer in time is RemoteUnreachableError', async () => {
    // A server that accepts the connection and never answers.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const error = await connectRemote({ url, requestTimeoutMs: 50 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteUnreachableError);
      expect((error as Error).message).toMatch(/no answer within 50 ms/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

const requests = () => server.log.map((l) => `${l.method} ${l.route}${l.sandbox ? ` ${l.sandbox}` : ''}`);

describe('sandboxes', () => {
  it('create, list, info, stop, start, kill, remove', async () => {
    const sb = await host.create({ image: IMAGE, name: 'box1', memoryMB: 512 });
    expect(sb.name).toBe('box1');
    expect(sb.id).toMatch(/^hcs-sandbox-/);
    expect((await host.list()).map((s) => s.name)).toEqual(['box1']);
    expect(await sb.info()).toMatchObject({
      name: 'box1',
      status: 'running',
      memoryMB: 512,
      persistent: false,
    });
    await sb.stop({ timeoutMs: 1000 });
    expect((await sb.info()).status).toBe('stopped');
    await sb.start();
    expect((await (await host.open('box1')).info()).status).toBe('running');
    await sb.kill();
    expect((await sb.info()).status).toBe('stopped');
    await sb.remove();
    expect(await host.list()).toEqual([]);
    expect(server.backend.names()).toEqual([]);
    expect(requests()).toContain('POST /v1/sandboxes/{name}/stop box1');
  });

  it('start: false leaves it stopped', async () => {
    const sb = await host.create({ image: IMAGE, start: false });
    expect((await sb.info()).status).toBe('stopped');
  });

  it('host paths are refused before any request, naming the field', async () => {
    const before = server.log.length;
    const error = await host
      .create({ image: IMAGE, mappedFolders: [{ hostPath: '/tmp', sandboxPath: 'C:\\x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ field: 'mappedFolders' });
    expect(server.log.length).toBe(before);
  });

  it('await using removes a non-persistent sandbox and stops a persistent one', async () => {
    {
      await using sb = await host.create({ image: IMAGE, name: 'gone' });
      expect(sb.renewing).toBe(true);
    }
    {
      await using sb = await host.create({ image: IMAGE, name: 'kept', persistent: true });
      expect(sb.renewing).toBe(false);
    }
    expect(server.backend.names()).toEqual(['kept']);
    expect((await (await host.open('kept')).info()).status).toBe('stopped');
  });
});

describe('server errors become typed errors, keeping the code', () => {
  it('404 SANDBOX_NOT_FOUND is a NotFoundError with the code a local one has', async () => {
    const error = await host.open('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteNotFoundError);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'SANDBOX_NOT_FOUND', kind: 'not-found', status: 404 });
  });

  it("another token's sandbox is SANDBOX_NOT_FOUND too (no existence oracle)", async () => {
    await host.create({ image: IMAGE, name: 'mine' });
    const other = await connectRemote({ url: server.url, token: SMALL_TOKEN });
    await expect(other.open('mine')).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND' });
    expect(await other.list()).toEqual([]);
  });

  it('an image the server does not have is IMAGE_NOT_FOUND', async () => {
    await expect(host.create({ image: 'nope/nope:1' })).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      kind: 'not-found',
    });
  });

  it('409 SANDBOX_EXISTS is a conflict', async () => {
    await host.create({ image: IMAGE, name: 'twice' });
    const error = await host.create({ image: IMAGE, name: 'twice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteConflictError);
    expect(error).toMatchObject({ code: 'SANDBOX_EXISTS', kind: 'conflict', status: 409 });
  });

  it("400 from the server is an invalid-argument error with the server's code and message", async () => {
    const error = await host.create({ image: 7 as unknown as string }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteInvalidRequestError);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', status: 400 });
    expect((error as Error).message).toMatch(/image/);
  });

  it('401 is RemoteAuthError saying where the token goes', async () => {
    const stranger = await connectRemote({ url: server.url, token: 'wrong' });
    const error = await stranger.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteAuthError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401, kind: 'failure' });
    expect((error as Error).message).toMatch(/HCS_SANDBOX_TOKEN/);
    // The stream route too: its upgrade is refused with the same answer.
    const anonymous = await connectRemote({ url: server.url });
    await expect(anonymous.list()).rejects.toBeInstanceOf(RemoteAuthError);
  });

  it('429 is RemoteQuotaError', async () => {
    const small = await connectRemote({ url: server.url, token: SMALL_TOKEN });
    const first = await small.create({ image: IMAGE });
    try {
      const error = await small.create({ image: IMAGE }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteQuotaError);
      expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', status: 429 });
    } finally {
      await first.remove();
    }
  });

  it.each([
    [500, 'INTERNAL', RemoteError, 'failure'],
    [502, 'HCS_ERROR', RemoteError, 'host'],
    [503, 'HCS_UNAVAILABLE', RemoteUnavailableError, 'unavailable'],
    [409, 'SANDBOX_NOT_RUNNING', InvalidStateError, 'invalid-state'],
    [413, 'BODY_TOO_LARGE', RemoteInvalidRequestError, 'invalid-argument'],
  ] as const)('%i %s (as the server would send it)', async (status, code, errorClass, kind) => {
    const fake = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code, message: `m ${code}` } }));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const error = await connectRemote({ url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ code, kind, status, message: `m ${code}` });
    } finally {
      fake.close();
    }
  });

  it('an answer that is not the error shape is RemoteProtocolError', async () => {
    const fake = createServer((_req, res) => res.writeHead(500).end('<html>oops</html>'));
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      await expect(connectRemote({ url })).rejects.toMatchObject({ code: 'REMOTE_PROTOCOL', status: 500 });
    } finally {
      fake.close();
    }
  });

  it.each([
    ['SANDBOX_NOT_FOUND', 404],
    ['IMAGE_NOT_FOUND', 404],
    ['INVALID_ARGUMENT', 400],
    ['SANDBOX_NOT_RUNNING', 409],
    ['SANDBOX_EXISTS', 409],
    ['SANDBOX_BUSY', 409],
    ['UNAUTHORIZED', 401],
    ['QUOTA_EXCEEDED', 429],
    ['OUTPUT_TOO_LARGE', 413],
    ['REQUEST_TIMEOUT', 408],
    ['HCS_ERROR', 500],
    [undefined, 500],
  ])('an error frame or line with %s counts as status %i', (code, status) => {
    expect(statusOfCode(code)).toBe(status);
  });

  it('a token with spaces or controls is refused before it reaches a header', async () => {
    await expect(connectRemote({ url: server.url, token: 'a b' })).rejects.toMatchObject({ field: 'token' });
  });
});

describe('commands, through the same CommandHandle as local ones', () => {
  const box = async () => host.create({ image: IMAGE });

  it('run: stdout, stderr, exit code, argv quoted into one command line', async () => {
    const sb = await box();
    const result = await sb.commands.run(['echo', 'hello']);
    expect(result).toMatchObject({
      exitCode: 0,
      stdout: 'hello\n',
      stderr: '',
      timedOut: false,
      isCanceled: false,
    });
    expect(result.command).toBe('echo hello');
    expect((await sb.commands.run('echo oops >&2')).stderr).toBe('oops\n');
  });

  it('a non-zero exit rejects with CommandExitError carrying the output, or resolves with reject: false', async () => {
    const sb = await box();
    const error = await sb.commands.run('echo bye; echo failing >&2; exit 3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandExitError);
    expect(error).toMatchObject({
      exitCode: 3,
      stdout: 'bye\n',
      stderr: 'failing\n',
      code: 'COMMAND_FAILED',
    });
    expect((error as Error).message).toMatch(/exited with code 3/);
    const result = await sb.commands.run('exit 3', { reject: false });
    expect(result.exitCode).toBe(3);
  });

  it("encoding: 'buffer' gives the bytes; stdin reaches the command; env and cwd are passed", async () => {
    const sb = await box();
    const bytes = randomBytes(3_000_000);
    const result = await sb.commands.run('cat', { stdin: bytes, encoding: 'buffer' });
    expect(Buffer.isBuffer(result.stdout)).toBe(true);
    expect(result.stdout.equals(bytes)).toBe(true);
    expect((await sb.commands.run('cat', { stdin: 'text in' })).stdout).toBe('text in');
    await sb.files.write('C:\\w\\marker', '');
    const env = await sb.commands.run('printf %s "$A"; ls', { env: { A: 'b|' }, cwd: 'C:\\w' });
    expect(env.stdout).toBe('b|marker\n');
  });

  it('a command that never reads stdin is not held up by it', async () => {
    const sb = await box();
    expect((await sb.commands.run('echo x', { stdin: randomBytes(1000) })).stdout).toBe('x\n');
  });

  it('timeoutMs kills the command: TimeoutError, timedOut set', async () => {
    const sb = await box();
    const started = performance.now();
    const error = await sb.commands.run('sleep 30', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timedOut: true, code: 'TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(server.backend.liveProcesses()).toEqual([]);
  });

  it('an aborted signal cancels it (isCanceled)', async () => {
    const sb = await box();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await sb.commands.run('sleep 30', { signal: controller.signal, reject: false });
    expect(result).toMatchObject({ isCanceled: true });
    expect(result.exitCode).not.toBe(0);
  });

  it('spawn streams output as it comes, onStdout sees it, kill ends it', async () => {
    const sb = await box();
    const seen: string[] = [];
    const handle = await sb.commands.spawn('head -c 1000000 /dev/zero | tr "\\0" x', {
      onStdout: (c) => seen.push(c),
    });
    expect(handle.pid).toBeGreaterThan(0);
    const result = await handle.wait();
    expect(result.stdout).toBe('x'.repeat(1_000_000));
    expect(seen.join('')).toBe(result.stdout);

    const long = await sb.commands.spawn('echo started; sleep 30');
    const first = await new Promise<string>((resolve) =>
      long.stdout!.once('data', (c: Buffer) => resolve(String(c))),
    );
    expect(first).toBe('started\n');
    await long.kill();
    expect((await long.wait()).exitCode).not.toBe(0);
    expect(server.backend.liveProcesses()).toEqual([]);
  });

  it('a slow reader holds the stream (flow control) and still gets every byte', async () => {
    const sb = await box();
    const handle = await sb.commands.spawn('head -c 40000000 /dev/zero', { encoding: 'buffer' });
    let total = 0;
    for await (const chunk of handle.stdout!) {
      total += (chunk as Buffer).length;
      if (total < 4_000_000) await sleep(2);
    }
    expect(total).toBe(40_000_000);
    expect((await handle.wait()).exitCode).toBe(0);
  }, 30_000);

  it('a command in a stopped sandbox rejects with the invalid-state code', async () => {
    const sb = await box();
    await sb.stop();
    const error = await sb.commands.run('echo x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ code: 'SANDBOX_NOT_RUNNING' });
  });

  it('a command in a sandbox that is gone rejects with SANDBOX_NOT_FOUND (the upgrade refused)', async () => {
    const sb = await box();
    await (await host.open(sb.name)).remove();
    await expect(sb.commands.run('echo x')).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND', status: 404 });
  });

  it('user is refused: the wire API has no accounts', async () => {
    const sb = await box();
    await expect(sb.commands.run('echo x', { user: 'ContainerUser' })).rejects.toMatchObject({
      field: 'user',
    });
  });
});

describe('files', () => {
  it('write, read (text and bytes), list, remove', async () => {
    const sb = await host.create({ image: IMAGE });
    await sb.files.write('C:\\work\\a.txt', 'hello');
    await sb.files.write('C:\\work\\b.bin', new Uint8Array([0, 1, 2]));
    expect(await sb.files.read('C:\\work\\a.txt')).toBe('hello');
    expect([...(await sb.files.read('C:\\work\\b.bin', { encoding: 'bytes' }))]).toEqual([0, 1, 2]);
    const entries = await sb.files.list('C:\\work');
    expect(entries.map(({ name, type, size }) => ({ name, type, size }))).toEqual([
      { name: 'a.txt', type: 'file', size: 5 },
      { name: 'b.bin', type: 'file', size: 3 },
    ]);
    expect(entries[0]!.modified).toBeInstanceOf(Date);
    await sb.files.remove('C:\\work\\a.txt');
    expect((await sb.files.list('C:\\work')).map((e) => e.name)).toEqual(['b.bin']);
    await expect(sb.files.read('C:\\work\\a.txt')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await sb.files.remove('C:\\work', { recursive: true });
    await expect(sb.files.list('C:\\work')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('copyIn and copyOut stream a 64 MiB file, byte for byte', async () => {
    const sb = await host.create({ image: IMAGE });
    const source = join(scratch, 'big.bin');
    const data = randomBytes(64 * 1024 * 1024);
    writeFileSync(source, data);
    const digest = createHash('sha256').update(data).digest('hex');
    await sb.files.copyIn(source, 'C:\\work\\big.bin');
    const target = join(scratch, 'out', 'deep', 'big.bin');
    await sb.files.copyOut('C:\\work\\big.bin', target);
    expect(createHash('sha256').update(readFileSync(target)).digest('hex')).toBe(digest);
  }, 60_000);

  it('folders are refused both ways with RemoteUnsupportedError', async () => {
    const sb = await host.create({ image: IMAGE });
    mkdirSync(join(scratch, 'folder'), { recursive: true });
    await expect(sb.files.copyIn(join(scratch, 'folder'), 'C:\\f')).rejects.toBeInstanceOf(
      RemoteUnsupportedError,
    );
    await sb.files.write('C:\\f\\inside.txt', 'x');
    const error = await sb.files.copyOut('C:\\f', join(scratch, 'f')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnsupportedError);
    expect(error).toMatchObject({ code: 'REMOTE_UNSUPPORTED' });
  });
});

describe('leases', () => {
  it('an open sandbox is kept by its renewals; closed, the server removes it when the lease lapses', async () => {
    const leased = await startTestServe({ leaseSeconds: 1, sweepMs: 50 });
    try {
      const remote = await connectRemote({ url: leased.url, token: TOKEN, leaseSeconds: 1 });
      const sb = await remote.create({ image: IMAGE, name: 'leased' });
      await sleep(1800);
      expect(leased.backend.names()).toEqual(['leased']);
      const renewals = leased.log.filter((l) => l.route.endsWith('/keepalive')).length;
      expect(renewals).toBeGreaterThanOrEqual(4);
      await sb.close();
      expect(sb.renewing).toBe(false);
      await sleep(1800);
      expect(leased.backend.names()).toEqual([]);
    } finally {
      await leased.close();
    }
  }, 20_000);

  it('the renewals stop when the sandbox is gone; host.close() lets go of every sandbox', async () => {
    const quick = await connectRemote({ url: server.url, token: TOKEN, leaseSeconds: 0.15 });
    const a = await quick.create({ image: IMAGE });
    const b = await quick.open(a.name);
    await (await host.open(a.name)).remove();
    await sleep(200);
    expect([a.renewing, b.renewing]).toEqual([false, false]);
    const c = await quick.create({ image: IMAGE });
    await quick.close();
    expect(c.renewing).toBe(false);
  });
});

describe('images', () => {
  it('list, and pull with progress', async () => {
    expect((await host.images.list()).map((i) => i.reference)).toEqual([IMAGE]);
    const progress: unknown[] = [];
    const image = await host.images.pull(IMAGE, { onProgress: (p) => progress.push(p) });
    expect(image.reference).toBe(IMAGE);
    expect(progress).toEqual([
      { item: IMAGE, phase: 'resolve', done: 0 },
      { item: IMAGE, phase: 'done', done: 1, total: 1 },
    ]);
  });

  it('a pull that fails on the server rejects with its code', async () => {
    const error = await host.images.pull('demo/missing:1').catch((e: unknown) => e);
    // The error line has no status: the code gives the class the same failure over HTTP gets.
    expect(error).toBeInstanceOf(RemoteNotFoundError);
    expect(error).toMatchObject({ code: 'IMAGE_NOT_FOUND', kind: 'not-found' });
  });
});
