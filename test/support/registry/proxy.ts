/**
 * A loopback HTTP proxy in front of the test registry that records every
 * request and can misbehave on purpose: cut a blob download after N bytes,
 * ignore `Range`, corrupt a blob, or demand a Bearer token from a tiny token
 * service it also serves (`/token`).
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  status: number;
}

export interface ProxyBehaviour {
  /** Blob GETs whose path contains this text are cut after `cutAfterBytes` bytes (once each, unless `cutAlways`). */
  cutBlob?: string;
  cutAfterBytes?: number;
  cutAlways?: boolean;
  /** Drop `Range` headers before forwarding (the registry then answers 200 with the whole blob). */
  ignoreRange?: boolean;
  /** Flip one byte in the body of blob GETs whose path contains this text. */
  corruptBlob?: string;
  /** Require `Authorization: Bearer <token>` on /v2/ and serve /token. */
  bearer?: { token: string; service: string; username?: string; password?: string };
}

export interface TestProxy {
  host: string;
  url: string;
  requests: ProxyRequest[];
  tokenRequests: string[];
  behaviour: ProxyBehaviour;
  stop(): Promise<void>;
}

export async function startProxy(upstream: string, behaviour: ProxyBehaviour = {}): Promise<TestProxy> {
  const target = new URL(upstream);
  const requests: ProxyRequest[] = [];
  const tokenRequests: string[] = [];
  const cut = new Set<string>();
  let url = '';
  const proxy: TestProxy = {
    host: '',
    url: '',
    requests,
    tokenRequests,
    behaviour,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const b = proxy.behaviour;
    const record = (status: number) =>
      requests.push({
        method: req.method ?? 'GET',
        path,
        ...(typeof req.headers.range === 'string' ? { range: req.headers.range } : {}),
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        status,
      });
    if (b.bearer && path.startsWith('/token')) {
      tokenRequests.push(path);
      const { username, password } = b.bearer;
      if (username !== undefined) {
        const expected = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401).end();
          return;
        }
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: b.bearer.token }));
      return;
    }
    if (b.bearer && path.startsWith('/v2/') && req.headers.authorization !== `Bearer ${b.bearer.token}`) {
      const repo = /^\/v2\/(.+?)\/(?:manifests|blobs)\//.exec(path)?.[1] ?? '';
      record(401);
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="${url}/token",service="${b.bearer.service}",scope="repository:${repo}:pull"`,
          'content-type': 'application/json',
        })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const headers = { ...req.headers, host: target.host };
    delete headers.authorization;
    if (b.ignoreRange) delete headers.range;
    const isBlobGet = req.method === 'GET' && path.includes('/blobs/sha256:');
    const upstreamReq = request(
      { host: target.hostname, port: target.port, method: req.method, path, headers },
      (up) => {
        const status = up.statusCode ?? 502;
        record(status);
        res.writeHead(status, up.headers);
        const cutHere =
          isBlobGet &&
          b.cutBlob !== undefined &&
          path.includes(b.cutBlob) &&
          (b.cutAlways || !cut.has(path)) &&
          status === 200;
        if (cutHere) cut.add(path);
        const corrupt = isBlobGet && b.corruptBlob !== undefined && path.includes(b.corruptBlob);
        let sent = 0;
        let flipped = false;
        up.on('data', (chunk: Buffer) => {
          let out = chunk;
          if (corrupt && !flipped && out.length > 0) {
            out = Buffer.from(out);
            out[0] = (out[0] ?? 0) ^ 0xff;
            flipped = true;
          }
          if (cutHere) {
            const room = (b.cutAfterBytes ?? 0) - sent;
            if (room <= 0) return;
            if (out.length >= room) {
              res.write(out.subarray(0, room));
              sent += room;
              up.destroy();
              // Let the bytes leave, then drop the connection mid-body.
              setTimeout(() => res.socket?.destroy(), 50);
              return;
            }
          }
          sent += out.length;
          res.write(out);
        });
        up.on('end', () => {
          if (!cutHere || sent < (b.cutAfterBytes ?? 0)) res.end();
        });
      },
    );
    upstreamReq.on('error', () => {
      record(502);
      res.destroy();
    });
    req.pipe(upstreamReq);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = url;
  return proxy;
}
