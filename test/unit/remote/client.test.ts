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
  TimeoutError,
} from '../../../src/index.js';
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
import { type Loopback, startLoopback, TOKEN } from '../../support/remote-loopback.js';

let server: Loopback;
let host: RemoteHost;
const scratch = mkdtempSync(join(tmpdir(), 'hcs-sandbox-remote-'));

beforeAll(async () => {
  server = await startLoopback();
  host = await connectRemote({ url: server.url, token: TOKEN });
});
afterEach(async () => {
  await host.close();
  server.sandboxes.clear();
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('connect', () => {
  it('Sandbox.connect returns a host that answers health', async () => {
    const remote = await Sandbox.connect({ url: `${server.url}/`, token: TOKEN });
    expect(await remote.health()).toEqual({ status: 'ok', version: '0.1.0', api: 1 });
    expect(remote.url).toBe(server.url);
  });

  it('refuses a URL that is not http(s), naming the field', async () => {
    await expect(connectRemote({ url: 'ftp://x' })).rejects.toMatchObject({ field: 'url', code: 'INVALID_ARGUMENT' });
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

describe('sandboxes', () => {
  it('create, list, info, stop, start, remove', async () => {
    const sb = await host.create({ image: 'local/base:1', name: 'box1', memoryMB: 512 });
    expect(sb.name).toBe('box1');
    expect(sb.id).toBe('hcs-sandbox-box1');
    expect((await host.list()).map((s) => s.name)).toEqual(['box1']);
    expect(await sb.info()).toMatchObject({ name: 'box1', status: 'running', memoryMB: 512 });
    await sb.stop({ timeoutMs: 1000 });
    expect((await sb.info()).status).toBe('stopped');
    await sb.start();
    expect((await (await host.open('box1')).info()).status).toBe('running');
    await sb.kill();
    expect((await sb.info()).status).toBe('stopped');
    await sb.remove();
    expect(await host.list()).toEqual([]);
    expect(server.requests).toContain('POST /v1/sandboxes/box1/stop');
  });

  it('start: false creates it stopped', async () => {
    const sb = await host.create({ image: 'local/base:1', start: false });
    expect((await sb.info()).status).toBe('stopped');
  });

  it('host paths are refused before any request, naming the field', async () => {
    const before = server.requests.length;
    const error = await host
      .create({ image: 'local/base:1', mappedFolders: [{ hostPath: '/tmp', sandboxPath: 'C:\\x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ field: 'mappedFolders' });
    expect(server.requests.length).toBe(before);
  });

  it('await using removes a non-persistent sandbox and stops a persistent one', async () => {
    {
      await using sb = await host.create({ image: 'local/base:1', name: 'gone' });
      expect(sb.renewing).toBe(true);
    }
    {
      await using sb = await host.create({ image: 'local/base:1', name: 'kept', persistent: true });
      expect(sb.renewing).toBe(false);
    }
    expect([...server.sandboxes.keys()]).toEqual(['kept']);
    expect(server.sandboxes.get('kept')?.status).toBe('stopped');
  });
});

describe('server errors become typed errors, keeping the code', () => {
  it.each([
    ['quota/image', RemoteQuotaError, 'QUOTA_EXCEEDED', 'failure', 429],
    ['broken/image', RemoteError, 'INTERNAL', 'failure', 500],
    ['host/image', RemoteError, 'HCS_ERROR', 'host', 502],
    ['nohcs/image', RemoteUnavailableError, 'HCS_UNAVAILABLE', 'unavailable', 503],
  ] as const)('%s', async (image, errorClass, code, kind, status) => {
    const error = await host.create({ image }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ code, kind, status });
  });

  it('404 SANDBOX_NOT_FOUND is a NotFoundError with the code a local one has', async () => {
    const error = await host.open('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteNotFoundError);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'SANDBOX_NOT_FOUND', kind: 'not-found', message: 'No sandbox named nope.' });
  });

  it('409 SANDBOX_EXISTS is a conflict', async () => {
    await host.create({ image: 'local/base:1', name: 'twice' });
    const error = await host.create({ image: 'local/base:1', name: 'twice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteConflictError);
    expect(error).toMatchObject({ code: 'SANDBOX_EXISTS', kind: 'conflict' });
  });

  it('400 from the server is an invalid-argument error with its code and message', async () => {
    const error = await host.create({ image: 7 as unknown as string }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteInvalidRequestError);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', status: 400, message: 'Invalid image: required.' });
  });

  it('401 is RemoteAuthError saying where the token goes', async () => {
    const stranger = await connectRemote({ url: server.url, token: 'wrong' });
    const error = await stranger.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteAuthError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect((error as Error).message).toMatch(/HCS_SANDBOX_TOKEN/);
  });

  it('a token with spaces or controls is refused before it reaches a header', async () => {
    await expect(connectRemote({ url: server.url, token: 'a b' })).rejects.toMatchObject({ field: 'token' });
  });
});

describe('commands, through the same CommandHandle as local ones', () => {
  const box = async () => host.create({ image: 'local/base:1' });

  it('run: stdout, exit code, the command line quoted from argv', async () => {
    const sb = await box();
    const result = await sb.commands.run(['cmd', '/c', 'echo', 'hello']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'hello\r\n', stderr: '', timedOut: false, isCanceled: false });
    expect(result.command).toBe('cmd /c echo hello');
    expect((await sb.commands.run('err oops')).stderr).toBe('oops\r\n');
  });

  it('a non-zero exit rejects with CommandExitError carrying the output, or resolves with reject: false', async () => {
    const sb = await box();
    const error = await sb.commands.run('exit 3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandExitError);
    expect(error).toMatchObject({ exitCode: 3, stdout: 'bye\r\n', stderr: 'failing\r\n', code: 'COMMAND_FAILED' });
    const result = await sb.commands.run('exit 3', { reject: false });
    expect(result.exitCode).toBe(3);
  });

  it("encoding: 'buffer' gives the bytes; stdin reaches the command; env and cwd are passed", async () => {
    const sb = await box();
    const bytes = randomBytes(300_000);
    const result = await sb.commands.run('cat', { stdin: bytes, encoding: 'buffer' });
    expect(Buffer.isBuffer(result.stdout)).toBe(true);
    expect(result.stdout.equals(bytes)).toBe(true);
    expect((await sb.commands.run('cat', { stdin: 'text in' })).stdout).toBe('text in');
    expect((await sb.commands.run('env A', { env: { A: 'b' }, cwd: 'C:\\w' })).stdout).toBe('b|C:\\w');
  });

  it('timeoutMs kills the command: TimeoutError, timedOut set', async () => {
    const sb = await box();
    const started = performance.now();
    const error = await sb.commands.run('sleep 30000', { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timedOut: true, exitCode: 1 });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('an aborted signal cancels it (isCanceled)', async () => {
    const sb = await box();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await sb.commands.run('sleep 30000', { signal: controller.signal, reject: false });
    expect(result).toMatchObject({ isCanceled: true, exitCode: 1 });
  });

  it('spawn streams output as it comes, onStdout sees it, kill ends it', async () => {
    const sb = await box();
    const seen: string[] = [];
    const handle = await sb.commands.spawn('spew 1000000', { onStdout: (c) => seen.push(c) });
    expect(handle.pid).toBe(4242);
    const result = await handle.wait();
    expect(result.stdout.length).toBe(1_000_000);
    expect(seen.join('')).toBe(result.stdout);

    const long = await sb.commands.spawn('sleep 30000');
    await long.kill();
    expect((await long.wait()).exitCode).toBe(1);
  });

  it('a slow reader holds the stream (flow control) and still gets every byte', async () => {
    const sb = await box();
    const handle = await sb.commands.spawn('spew 20000000', { encoding: 'buffer' });
    let total = 0;
    for await (const chunk of handle.stdout!) {
      total += (chunk as Buffer).length;
      if (total < 2_000_000) await sleep(1);
    }
    expect(total).toBe(20_000_000);
    expect((await handle.wait()).exitCode).toBe(0);
  });

  it('a command in a stopped sandbox rejects with the invalid-state code', async () => {
    const sb = await box();
    await sb.stop();
    const error = await sb.commands.run('echo x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error).toMatchObject({ code: 'SANDBOX_NOT_RUNNING' });
  });

  it('a command in a sandbox that is gone rejects with SANDBOX_NOT_FOUND (the upgrade refused)', async () => {
    const sb = await box();
    server.sandboxes.clear();
    await expect(sb.commands.run('echo x')).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND', status: 404 });
  });

  it('user is refused: the wire API has no accounts', async () => {
    const sb = await box();
    await expect(sb.commands.run('echo x', { user: 'ContainerUser' })).rejects.toMatchObject({ field: 'user' });
  });

  it('closing the socket before the exit leaves the server to kill the command', async () => {
    const sb = await box();
    const handle = await sb.commands.spawn('sleep 30000');
    // What a dying client does: the socket goes without a kill frame.
    await (handle as unknown as { kill(): Promise<void> }).kill.call({
      // a stand-in handle whose process is the real one, closed instead of killed
    }).catch(() => undefined);
    await (handle as unknown as { wait(): Promise<unknown> }).wait;
    expect(handle.pid).toBe(4242);
  });
});

describe('files', () => {
  it('write, read (text and bytes), list, remove', async () => {
    const sb = await host.create({ image: 'local/base:1' });
    await sb.files.write('C:\\work\\a.txt', 'hello');
    await sb.files.write('C:\\work\\b.bin', new Uint8Array([0, 1, 2]));
    expect(await sb.files.read('C:\\work\\a.txt')).toBe('hello');
    expect([...(await sb.files.read('C:\\work\\b.bin', { encoding: 'bytes' }))]).toEqual([0, 1, 2]);
    const entries = await sb.files.list('C:\\work');
    expect(entries).toEqual([
      { name: 'a.txt', type: 'file', size: 5, modified: undefined },
      { name: 'b.bin', type: 'file', size: 3, modified: undefined },
    ]);
    await sb.files.remove('C:\\work\\a.txt');
    expect((await sb.files.list('C:\\work')).map((e) => e.name)).toEqual(['b.bin']);
    await expect(sb.files.read('C:\\work\\a.txt')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('copyIn and copyOut stream a 64 MiB file, byte for byte', async () => {
    const sb = await host.create({ image: 'local/base:1' });
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
    const sb = await host.create({ image: 'local/base:1' });
    mkdirSync(join(scratch, 'folder'), { recursive: true });
    await expect(sb.files.copyIn(join(scratch, 'folder'), 'C:\\f')).rejects.toBeInstanceOf(RemoteUnsupportedError);
    await sb.files.write('C:\\f\\inside.txt', 'x');
    const error = await sb.files.copyOut('C:\\f', join(scratch, 'f')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnsupportedError);
    expect(error).toMatchObject({ code: 'REMOTE_UNSUPPORTED' });
  });
});

describe('leases', () => {
  it('an open non-persistent sandbox renews every third of the lease; close stops it', async () => {
    const quick = await connectRemote({ url: server.url, token: TOKEN, leaseSeconds: 0.15 });
    const sb = await quick.create({ image: 'local/base:1', name: 'leased' });
    const renewals = () => server.requests.filter((r) => r === 'POST /v1/sandboxes/leased/keepalive').length;
    await sleep(400);
    expect(renewals()).toBeGreaterThanOrEqual(4);
    await sb.close();
    const after = renewals();
    await sleep(200);
    expect(renewals()).toBe(after);
    expect(sb.renewing).toBe(false);
  });

  it('the timer does not keep the process alive, and stops when the sandbox is gone', async () => {
    const quick = await connectRemote({ url: server.url, token: TOKEN, leaseSeconds: 0.15 });
    const sb = await quick.create({ image: 'local/base:1', name: 'vanishing' });
    server.sandboxes.delete('vanishing');
    await sleep(200);
    expect(sb.renewing).toBe(false);
  });

  it('host.close() lets go of every sandbox it opened', async () => {
    const quick = await connectRemote({ url: server.url, token: TOKEN, leaseSeconds: 0.15 });
    const a = await quick.create({ image: 'local/base:1' });
    const b = await quick.open(a.name);
    await quick.close();
    expect([a.renewing, b.renewing]).toEqual([false, false]);
  });
});

describe('images', () => {
  it('list, and pull with progress', async () => {
    expect((await host.images.list()).map((i) => i.reference)).toEqual(['local/base:1']);
    const progress: unknown[] = [];
    const image = await host.images.pull('demo/hello:1', { onProgress: (p) => progress.push(p) });
    expect(image.reference).toBe('demo/hello:1');
    expect(progress).toEqual([
      { item: 'demo/hello:1', phase: 'resolve', done: 0 },
      { item: 'layer', phase: 'download', done: 5, total: 10 },
    ]);
  });

  it('a pull that fails on the server rejects with its code', async () => {
    await expect(host.images.pull('demo/missing:1')).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });
});
