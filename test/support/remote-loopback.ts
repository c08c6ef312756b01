import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A loopback test double of the wire API v1 (docs/remote.md), for the remote
 * client's tests: the routes the client uses, over an in-memory world. Its
 * "sandboxes" run a handful of commands in JavaScript (below), enough to
 * drive every path of the client: output on both channels, exit codes,
 * stdin, a long run to kill or time out, and a flood to exercise flow control.
 *
 *   echo TEXT      TEXT and CRLF on stdout          err TEXT   TEXT and CRLF on stderr
 *   exit N         exits with N                     cat        stdin back on stdout, to its end
 *   sleep MS       waits, exits 0 (killed: 1)       spew N     N bytes on stdout (pauses above 4 MiB buffered)
 *   env NAME       the value of NAME, cwd: the cwd  pid        nothing; the pid is 4242
 * A `cmd /c ` prefix is ignored, as is quoting of the arguments.
 */

export const TOKEN = 'loopback-token';

interface World {
  status: 'running' | 'stopped';
  persistent: boolean;
  createdAt: string;
  image: string;
  memoryMB: number | undefined;
  files: Map<string, Buffer>;
}

export interface Loopback {
  url: string;
  /** name -> sandbox, to look inside. */
  readonly sandboxes: Map<string, World>;
  /** Every request as `METHOD /path` (no query), in order. */
  readonly requests: string[];
  /** Names whose stream ended with the client going away before the exit (the server kills those). */
  readonly abandoned: string[];
  close(): Promise<void>;
}

const IMAGES = [{ reference: 'local/base:1', id: `sha256:${'a'.repeat(64)}`, source: 'hcs-sandbox', os: 'windows' }];
const HOST_ONLY = ['mappedFolders', 'home', 'cacheDir', 'ports', 'owner', 'start'];

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  if (status === 401) res.setHeader('www-authenticate', 'Bearer');
  send(res, status, { error: { code, message } });
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function infoOf(name: string, w: World) {
  return {
    name,
    id: `hcs-sandbox-${name}`,
    status: w.status,
    isolation: 'process',
    image: w.image,
    persistent: w.persistent,
    createdAt: w.createdAt,
    memoryMB: w.memoryMB,
    cpus: undefined,
    mappedFolders: [],
    scratchBytes: 0,
    network: 'none',
    ports: [],
    ip: undefined,
  };
}

export async function startLoopback(): Promise<Loopback> {
  const sandboxes = new Map<string, World>();
  const requests: string[] = [];
  const abandoned: string[] = [];
  let next = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/v1/health') return send(res, 200, { status: 'ok', version: '0.1.0', api: 1 });
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return fail(res, 401, 'UNAUTHORIZED', 'a bearer token is required');
    const parts = url.pathname.split('/').slice(2).map(decodeURIComponent);
    const [collection, name, action, sub] = parts;
    if (collection === 'images') {
      if (req.method === 'GET' && !name) return send(res, 200, { images: IMAGES });
      if (req.method === 'POST' && name === 'pull') {
        const { reference } = JSON.parse((await bodyOf(req)).toString()) as { reference: string };
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ type: 'progress', item: reference, phase: 'resolve', done: 0 })}\n`);
        res.write(`${JSON.stringify({ type: 'progress', item: 'layer', phase: 'download', done: 5, total: 10 })}\n`);
        if (reference.includes('missing'))
          res.end(`${JSON.stringify({ type: 'error', error: { code: 'REGISTRY_ERROR', message: 'no such image' } })}\n`);
        else res.end(`${JSON.stringify({ type: 'done', image: { ...IMAGES[0], reference } })}\n`);
        return;
      }
    }
    if (collection !== 'sandboxes') return fail(res, 404, 'ROUTE_NOT_FOUND', `no route ${url.pathname}`);
    if (!name) {
      if (req.method === 'GET')
        return send(res, 200, { sandboxes: [...sandboxes].map(([n, w]) => infoOf(n, w)) });
      if (req.method !== 'POST') return fail(res, 405, 'METHOD_NOT_ALLOWED', 'GET or POST');
      let o: Record<string, unknown>;
      try {
        o = JSON.parse((await bodyOf(req)).toString()) as Record<string, unknown>;
      } catch {
        return fail(res, 400, 'MALFORMED_BODY', 'the body is not JSON');
      }
      const hostOnly = HOST_ONLY.find((k) => k in o);
      if (hostOnly) return fail(res, 400, 'INVALID_ARGUMENT', `Invalid ${hostOnly}: not accepted remotely.`);
      if (typeof o.image !== 'string') return fail(res, 400, 'INVALID_ARGUMENT', 'Invalid image: required.');
      if (o.image === 'quota/image') return fail(res, 429, 'QUOTA_EXCEEDED', 'maxSandboxes 1 reached (1 live)');
      if (o.image === 'broken/image') return fail(res, 500, 'INTERNAL', 'the server failed');
      if (o.image === 'host/image') return fail(res, 502, 'HCS_ERROR', 'HcsCreateComputeSystem failed');
      if (o.image === 'nohcs/image') return fail(res, 503, 'HCS_UNAVAILABLE', 'no HCS on the server');
      const sandboxName = typeof o.name === 'string' ? o.name : `sb-${++next}`;
      if (sandboxes.has(sandboxName)) return fail(res, 409, 'SANDBOX_EXISTS', `${sandboxName} exists`);
      const world: World = {
        status: 'running',
        persistent: o.persistent === true,
        createdAt: new Date().toISOString(),
        image: o.image,
        memoryMB: typeof o.memoryMB === 'number' ? o.memoryMB : undefined,
        files: new Map(),
      };
      sandboxes.set(sandboxName, world);
      return send(res, 201, infoOf(sandboxName, world));
    }
    const world = sandboxes.get(name);
    if (!world) return fail(res, 404, 'SANDBOX_NOT_FOUND', `No sandbox named ${name}.`);
    const route = `${req.method} ${action ?? ''}${sub ? `/${sub}` : ''}`;
    const path = url.searchParams.get('path') ?? '';
    switch (route) {
      case 'GET ':
        return send(res, 200, infoOf(name, world));
      case 'DELETE ':
        sandboxes.delete(name);
        return send(res, 204);
      case 'POST stop':
      case 'POST kill':
        await bodyOf(req);
        world.status = 'stopped';
        return send(res, 200, infoOf(name, world));
      case 'POST start':
        await bodyOf(req);
        world.status = 'running';
        return send(res, 200, infoOf(name, world));
      case 'POST keepalive':
        return send(res, 204);
      case 'PUT files':
        world.files.set(path.toLowerCase(), await bodyOf(req));
        return send(res, 204);
      case 'GET files': {
        const data = world.files.get(path.toLowerCase());
        if (!data) {
          const folder = [...world.files.keys()].some((k) => k.startsWith(`${path.toLowerCase()}\\`));
          if (folder) return fail(res, 400, 'INVALID_ARGUMENT', `Invalid path: ${path} is a folder.`);
          return fail(res, 404, 'PATH_NOT_FOUND', `No file ${path} in the sandbox.`);
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        // In 1 MiB pieces, as a stream.
        for (let at = 0; at < data.length; at += 1 << 20) {
          if (!res.write(data.subarray(at, at + (1 << 20)))) await new Promise((r) => res.once('drain', r));
        }
        res.end();
        return;
      }
      case 'GET files/list': {
        const prefix = `${path.toLowerCase().replace(/\\+$/, '')}\\`;
        const entries = [...world.files]
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => ({ name: k.slice(prefix.length), type: 'file', size: v.length, modified: null }));
        if (entries.length === 0) return fail(res, 404, 'PATH_NOT_FOUND', `No folder ${path} in the sandbox.`);
        return send(res, 200, { entries });
      }
      case 'DELETE files':
        if (!world.files.delete(path.toLowerCase()))
          return fail(res, 404, 'PATH_NOT_FOUND', `No file ${path} in the sandbox.`);
        return send(res, 204);
      default:
        return fail(res, 404, 'ROUTE_NOT_FOUND', `no route ${route}`);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => fail(res, 500, 'INTERNAL', String(error)));
  });
  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`UPGRADE ${url.pathname}`);
    const reject = (status: number, code: string, message: string) => {
      const body = JSON.stringify({ error: { code, message } });
      socket.end(
        `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      );
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return reject(401, 'UNAUTHORIZED', 'no token');
    const name = decodeURIComponent(url.pathname.split('/')[3] ?? '');
    const world = sandboxes.get(name);
    if (!world) return reject(404, 'SANDBOX_NOT_FOUND', `No sandbox named ${name}.`);
    sockets.handleUpgrade(req, socket, head, (ws) => runStream(ws, name, world, abandoned));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sandboxes,
    requests,
    abandoned,
    close: async () => {
      for (const ws of sockets.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function runStream(ws: WebSocket, name: string, world: World, abandoned: string[]): void {
  let stdin: Buffer[] = [];
  let stdinEnded: () => void = () => {};
  const stdinDone = new Promise<void>((resolve) => {
    stdinEnded = resolve;
  });
  let killed = false;
  let exited = false;
  const killers: (() => void)[] = [];
  const out = async (channel: number, data: Buffer | string) => {
    ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
    // Flow control as the server does it: wait while the socket holds over 4 MiB.
    while (ws.bufferedAmount > 4 * 1024 * 1024 && !killed) await sleep(5);
  };
  const exit = (exitCode: number) => {
    exited = true;
    ws.send(JSON.stringify({ type: 'exit', exitCode, timedOut: false }));
    ws.close(1000);
  };
  ws.on('close', () => {
    if (!exited) abandoned.push(name);
    killed = true;
    for (const k of killers) k();
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      stdin.push(data);
      return;
    }
    const message = JSON.parse(data.toString()) as { type: string; command?: string; env?: Record<string, string>; cwd?: string };
    if (message.type === 'stdin-end') stdinEnded();
    else if (message.type === 'kill') {
      killed = true;
      for (const k of killers) k();
    } else if (message.type === 'start') {
      if (world.status !== 'running') {
        ws.send(JSON.stringify({ type: 'error', error: { code: 'SANDBOX_NOT_RUNNING', message: `${name} is stopped` } }));
        ws.close(1011);
        return;
      }
      ws.send(JSON.stringify({ type: 'started', pid: 4242 }));
      const line = String(message.command).replace(/^cmd \/c /i, '').replace(/"/g, '');
      const [verb, ...rest] = line.split(' ');
      const arg = rest.join(' ');
      void (async () => {
        switch (verb) {
          case 'echo':
            await out(1, `${arg}\r\n`);
            return exit(0);
          case 'err':
            await out(2, `${arg}\r\n`);
            return exit(0);
          case 'exit':
            await out(1, 'bye\r\n');
            await out(2, 'failing\r\n');
            return exit(Number(arg));
          case 'env':
            await out(1, `${message.env?.[arg] ?? ''}|${message.cwd ?? ''}`);
            return exit(0);
          case 'cat':
            await stdinDone;
            for (const chunk of stdin) await out(1, chunk);
            stdin = [];
            return exit(0);
          case 'sleep': {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, Number(arg));
              killers.push(() => {
                clearTimeout(timer);
                resolve();
              });
            });
            if (ws.readyState === ws.OPEN) exit(killed ? 1 : 0);
            return;
          }
          case 'spew': {
            const piece = Buffer.alloc(64 * 1024, 'x');
            for (let left = Number(arg); left > 0 && !killed; left -= piece.length)
              await out(1, piece.subarray(0, Math.min(left, piece.length)));
            if (ws.readyState === ws.OPEN) exit(killed ? 1 : 0);
            return;
          }
          default:
            await out(2, `'${verb}' is not recognized\r\n`);
            return exit(9009);
        }
      })();
    }
  });
}
