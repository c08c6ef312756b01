import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandExitError, InvalidStateError, TimeoutError } from '../../../src/index.js';
import {
  connectRemote,
  RemoteNotFoundError,
  RemoteUnreachableError,
  RemoteUnsupportedError,
} from '../../../src/remote/client/index.js';
import {
  LINUX_IMAGE as IMAGE,
  startTestServe,
  TOKEN,
  useRemoteHost,
  withFakeServer,
} from '../../support/remote-serve.js';

/** A remote sandbox's commands, files, leases and images, against the real server (remote-serve.ts). */

const t = useRemoteHost();
const HEALTH = JSON.stringify({ status: 'ok', version: 'fake', api: 1 });
const scratch = mkdtempSync(join(tmpdir(), 'hcs-sandbox-remote-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('commands, through the same CommandHandle as local ones', () => {
  const box = async () => t.host.create({ image: IMAGE });

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
    expect(t.server.backend.liveProcesses()).toEqual([]);
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
    expect(t.server.backend.liveProcesses()).toEqual([]);
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
    await (await t.host.open(sb.name)).remove();
    await expect(sb.commands.run('echo x')).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND', status: 404 });
  });

  it('a stream whose upgrade is never answered fails after the request timeout', async () => {
    await withFakeServer(
      (req, res) => {
        if (req.url === '/v1/health') return void res.end(HEALTH);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ name: 'x', id: 'x' }));
      },
      async (url, fake) => {
        // Accepted, never answered (and destroyed at the end: an upgraded socket is no longer the server's).
        const held: Duplex[] = [];
        fake.on('upgrade', (_req, socket: Duplex) => held.push(socket));
        const remote = await connectRemote({ url, token: TOKEN, requestTimeoutMs: 100 });
        const sb = await remote.open('x');
        const error = await sb.commands.run('echo x').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RemoteUnreachableError);
        expect((error as Error).message).toMatch(/handshake has timed out/);
        await remote.close();
        for (const socket of held) socket.destroy();
      },
    );
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
    const sb = await t.host.create({ image: IMAGE });
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
    const sb = await t.host.create({ image: IMAGE });
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
    const sb = await t.host.create({ image: IMAGE });
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
    const quick = await connectRemote({ url: t.server.url, token: TOKEN, leaseSeconds: 0.15 });
    const a = await quick.create({ image: IMAGE });
    const b = await quick.open(a.name);
    await (await t.host.open(a.name)).remove();
    await sleep(200);
    expect([a.renewing, b.renewing]).toEqual([false, false]);
    const c = await quick.create({ image: IMAGE });
    await quick.close();
    expect(c.renewing).toBe(false);
  });
});

describe('images', () => {
  it('list, and pull with progress', async () => {
    expect((await t.host.images.list()).map((i) => i.reference)).toEqual([IMAGE]);
    const progress: unknown[] = [];
    const image = await t.host.images.pull(IMAGE, { onProgress: (p) => progress.push(p) });
    expect(image.reference).toBe(IMAGE);
    expect(progress).toEqual([
      { item: IMAGE, phase: 'resolve', done: 0 },
      { item: IMAGE, phase: 'done', done: 1, total: 1 },
    ]);
  });

  it('a pull whose server sends a line without end is cut at 1 MiB, not held', async () => {
    await withFakeServer(
      (req, res) => {
        if (req.url === '/v1/health') return void res.end(HEALTH);
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.end(Buffer.alloc(2 * 1024 * 1024, 'x'));
      },
      async (url) => {
        const remote = await connectRemote({ url, token: TOKEN });
        await expect(remote.images.pull(IMAGE)).rejects.toMatchObject({ code: 'REMOTE_PROTOCOL' });
      },
    );
  });

  it('a pull that fails on the server rejects with its code', async () => {
    const error = await t.host.images.pull('demo/missing:1').catch((e: unknown) => e);
    // The error line has no status: the code gives the class the same failure over HTTP gets.
    expect(error).toBeInstanceOf(RemoteNotFoundError);
    expect(error).toMatchObject({ code: 'IMAGE_NOT_FOUND', kind: 'not-found' });
  });
});
