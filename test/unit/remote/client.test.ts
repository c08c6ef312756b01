import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  Sandbox,
  type SandboxHost,
} from '../../../src/index.js';
import { statusOfCode } from '../../../src/remote/client/errors.js';
import {
  connectRemote,
  RemoteAuthError,
  RemoteConflictError,
  RemoteError,
  RemoteInvalidRequestError,
  RemoteNotFoundError,
  RemoteQuotaError,
  RemoteUnavailableError,
  RemoteUnreachableError,
} from '../../../src/remote/client/index.js';
import {
  deadUrl,
  LINUX_IMAGE as IMAGE,
  SMALL_TOKEN,
  TOKEN,
  useRemoteHost,
  withFakeServer,
} from '../../support/remote-serve.js';

const t = useRemoteHost();

describe('connect', () => {
  it('Sandbox.connect returns a host that answers health', async () => {
    const remote = await Sandbox.connect({ url: `${t.server.url}/`, token: TOKEN });
    expect(await remote.health()).toEqual({ status: 'ok', version: '0.1.0-test', api: 1 });
    expect(remote.url).toBe(t.server.url);
  });

  it('the local Sandbox class and a RemoteHost are both SandboxHosts (checked by tsc)', () => {
    const hosts: SandboxHost[] = [Sandbox, t.host];
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
    const url = await deadUrl();
    const error = await connectRemote({ url, token: TOKEN }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnreachableError);
    expect(error).toMatchObject({ code: 'REMOTE_UNREACHABLE', kind: 'unavailable', status: 0, url });
    expect((error as Error).message).toContain(`${url}: connect ECONNREFUSED`);
    expect((error as Error).message).toMatch(/Check the URL/);
  });

  it('a request with no answer in time is RemoteUnreachableError', async () => {
    // A server that accepts the connection and never answers.
    await withFakeServer(
      () => {},
      async (url) => {
        const error = await connectRemote({ url, requestTimeoutMs: 50 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RemoteUnreachableError);
        expect((error as Error).message).toMatch(/no answer within 50 ms/);
      },
    );
  });
});

const requests = () => t.server.log.map((l) => `${l.method} ${l.route}${l.sandbox ? ` ${l.sandbox}` : ''}`);

describe('sandboxes', () => {
  it('create, list, info, stop, start, kill, remove', async () => {
    const sb = await t.host.create({ image: IMAGE, name: 'box1', memoryMB: 512 });
    expect(sb.name).toBe('box1');
    expect(sb.id).toMatch(/^hcs-sandbox-/);
    expect((await t.host.list()).map((s) => s.name)).toEqual(['box1']);
    expect(await sb.info()).toMatchObject({
      name: 'box1',
      status: 'running',
      memoryMB: 512,
      persistent: false,
    });
    await sb.stop({ timeoutMs: 1000 });
    expect((await sb.info()).status).toBe('stopped');
    await sb.start();
    expect((await (await t.host.open('box1')).info()).status).toBe('running');
    await sb.kill();
    expect((await sb.info()).status).toBe('stopped');
    await sb.remove();
    expect(await t.host.list()).toEqual([]);
    expect(t.server.backend.names()).toEqual([]);
    expect(requests()).toContain('POST /v1/sandboxes/{name}/stop box1');
  });

  it('start: false leaves it stopped', async () => {
    const sb = await t.host.create({ image: IMAGE, start: false });
    expect((await sb.info()).status).toBe('stopped');
  });

  it('host paths are refused before any request, naming the field', async () => {
    const before = t.server.log.length;
    const error = await t.host
      .create({ image: IMAGE, mappedFolders: [{ hostPath: '/tmp', sandboxPath: 'C:\\x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ field: 'mappedFolders' });
    expect(t.server.log.length).toBe(before);
  });

  it('await using removes a non-persistent sandbox and stops a persistent one', async () => {
    {
      await using sb = await t.host.create({ image: IMAGE, name: 'gone' });
      expect(sb.renewing).toBe(true);
    }
    {
      await using sb = await t.host.create({ image: IMAGE, name: 'kept', persistent: true });
      expect(sb.renewing).toBe(false);
    }
    expect(t.server.backend.names()).toEqual(['kept']);
    expect((await (await t.host.open('kept')).info()).status).toBe('stopped');
  });
});

describe('server errors become typed errors, keeping the code', () => {
  it('404 SANDBOX_NOT_FOUND is a NotFoundError with the code a local one has', async () => {
    const error = await t.host.open('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteNotFoundError);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'SANDBOX_NOT_FOUND', kind: 'not-found', status: 404 });
  });

  it("another token's sandbox is SANDBOX_NOT_FOUND too (no existence oracle)", async () => {
    await t.host.create({ image: IMAGE, name: 'mine' });
    const other = await connectRemote({ url: t.server.url, token: SMALL_TOKEN });
    await expect(other.open('mine')).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND' });
    expect(await other.list()).toEqual([]);
  });

  it('an image the server does not have is IMAGE_NOT_FOUND', async () => {
    await expect(t.host.create({ image: 'nope/nope:1' })).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      kind: 'not-found',
    });
  });

  it('409 SANDBOX_EXISTS is a conflict', async () => {
    await t.host.create({ image: IMAGE, name: 'twice' });
    const error = await t.host.create({ image: IMAGE, name: 'twice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteConflictError);
    expect(error).toMatchObject({ code: 'SANDBOX_EXISTS', kind: 'conflict', status: 409 });
  });

  it("400 from the server is an invalid-argument error with the server's code and message", async () => {
    const error = await t.host.create({ image: 7 as unknown as string }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteInvalidRequestError);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', status: 400 });
    expect((error as Error).message).toMatch(/image/);
  });

  it('401 is RemoteAuthError saying where the token goes', async () => {
    const stranger = await connectRemote({ url: t.server.url, token: 'wrong' });
    const error = await stranger.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteAuthError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401, kind: 'invalid-argument' });
    expect((error as Error).message).toMatch(/HCS_SANDBOX_TOKEN/);
    // The stream route too: its upgrade is refused with the same answer.
    const anonymous = await connectRemote({ url: t.server.url });
    await expect(anonymous.list()).rejects.toBeInstanceOf(RemoteAuthError);
  });

  it('429 is RemoteQuotaError', async () => {
    const small = await connectRemote({ url: t.server.url, token: SMALL_TOKEN });
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
    const answer = JSON.stringify({ error: { code, message: `m ${code}` } });
    await withFakeServer(
      (_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(answer),
      async (url) => {
        const error = await connectRemote({ url }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(errorClass);
        expect(error).toMatchObject({ code, kind, status, message: `m ${code}` });
      },
    );
  });

  it('an answer that is not the error shape is RemoteProtocolError', async () => {
    await withFakeServer(
      (_req, res) => res.writeHead(500).end('<html>oops</html>'),
      async (url) => {
        await expect(connectRemote({ url })).rejects.toMatchObject({ code: 'REMOTE_PROTOCOL', status: 500 });
      },
    );

    // A body that never ends is read up to 64 KiB, not held.
    await withFakeServer(
      (_req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (res.write(chunk));
          res.once('drain', pump);
        };
        pump();
      },
      async (url) => {
        await expect(connectRemote({ url })).rejects.toMatchObject({ code: 'REMOTE_PROTOCOL', status: 500 });
      },
    );
  });

  it('a redirect is not followed (it would carry the token elsewhere)', async () => {
    const healthChecks = () => t.server.log.filter((l) => l.route === '/v1/health').length;
    const before = healthChecks();
    await withFakeServer(
      (_req, res) => res.writeHead(307, { location: `${t.server.url}/v1/health` }).end(),
      async (url) => {
        const error = await connectRemote({ url, token: TOKEN }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'REMOTE_PROTOCOL', status: 307 });
        expect((error as Error).message).toContain(`a redirect to ${t.server.url}/v1/health`);
      },
    );
    expect(healthChecks()).toBe(before);
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
    await expect(connectRemote({ url: t.server.url, token: 'a b' })).rejects.toMatchObject({
      field: 'token',
    });
  });
});
