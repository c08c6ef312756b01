import { createServer as createHttpServer, type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { HcsSandboxError, InvalidArgumentError } from '../../internal/errors.js';
import { type TokenFile, TokenRing } from './auth.js';
import type { ServeBackend } from './backend.js';
import { RequestTimeoutError, RouteNotFoundError } from './errors.js';
import { acceptExecSocket, execSocketServer } from './exec-socket.js';
import { wireError } from './http-errors.js';
import { sendError, sendJson } from './http-io.js';
import { LeaseBook } from './leases.js';
import { openApiDocument } from './openapi.js';
import { OwnedSandboxes } from './owned-sandboxes.js';
import { type LogSink, logLine, stderrSink } from './request-log.js';
import { type Route, Router } from './router.js';
import { DEFAULT_MAX_FILE_BYTES, fileRoutes } from './routes-files.js';
import { imageRoutes } from './routes-images.js';
import { DEFAULT_OUTPUT_LIMIT, sandboxRoutes } from './routes-sandboxes.js';

export interface ApiServerOptions {
  backend: ServeBackend;
  tokens: TokenFile;
  /** The store root: the lease file and temporary upload files live here. */
  root: string;
  /** Reported by the health route. */
  version: string;
  /** Lease of an ephemeral sandbox, renewed by every request about it (default 60). */
  leaseSeconds?: number;
  /** Cap on a PUT file body (default 1 GiB). */
  maxFileBytes?: number;
  /** Cap on each of stdout/stderr of `POST .../commands` (default 64 MiB). */
  outputLimitBytes?: number;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where the NDJSON request log goes (default stderr). */
  log?: LogSink;
  /** How often leases are checked (default 1 s). */
  sweepMs?: number;
  /** WebSocket ping period (default 30 s). */
  pingMs?: number;
  /** Time for a client to send its request headers (default 30 s). */
  headersTimeoutMs?: number;
  /** Time for a client to send its whole request, body included (default 10 min). */
  requestTimeoutMs?: number;
  /** Time streams get to finish on shutdown before they are cut (default 10 s). */
  shutdownGraceMs?: number;
}

export interface ApiServer {
  readonly server: Server;
  /** `http(s)://host:port`, once listening. */
  readonly url: string;
  readonly port: number;
  /** Every route, as `METHOD /template` (the OpenAPI document must describe exactly these). */
  readonly routes: readonly string[];
  /** Stops accepting, lets streams finish (or cuts them after the grace), keeps every sandbox. */
  close(): Promise<void>;
}

const STREAM = '/v1/sandboxes/{name}/commands/stream';

/** Starts the API server on `host:port` (port 0: any free one). */
export async function startApiServer(
  options: ApiServerOptions & { host: string; port: number },
): Promise<ApiServer> {
  const log = options.log ?? stderrSink;
  const tokens = new TokenRing(options.tokens);
  const leases = await LeaseBook.open(options.root, (options.leaseSeconds ?? 60) * 1000);
  const sandboxes = new OwnedSandboxes(options.backend, leases);
  const wss = execSocketServer();
  const document = openApiDocument(options.version);
  const own: Route[] = [
    {
      method: 'GET',
      template: '/v1/health',
      auth: false,
      async handle({ res }) {
        sendJson(res, 200, { status: 'ok', version: options.version, api: 1 });
        return 200;
      },
    },
    {
      method: 'GET',
      template: '/v1/openapi.json',
      auth: true,
      async handle({ res }) {
        sendJson(res, 200, document);
        return 200;
      },
    },
    {
      method: 'GET',
      template: STREAM,
      auth: true,
      async handle() {
        throw new InvalidArgumentError('Upgrade', "'websocket' (this route is a WebSocket)", undefined);
      },
    },
  ];
  const allRoutes = [
    ...own,
    ...sandboxRoutes(sandboxes, { outputLimit: options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT }),
    ...fileRoutes(sandboxes, {
      root: options.root,
      maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    }),
    ...imageRoutes(options.backend.images),
  ];
  const router = new Router(allRoutes);

  const logRequest = (fields: Record<string, unknown>) => logLine(log, fields);
  const logFailure = (error: unknown, route: string) => {
    // A bug: its message (no stack, no body) goes to the log; the client got INTERNAL.
    if (!(error instanceof HcsSandboxError))
      logRequest({ event: 'internal-error', route, error: String((error as Error)?.message ?? error) });
  };

  const serverOptions = {
    headersTimeout: options.headersTimeoutMs ?? 30_000,
    requestTimeout: options.requestTimeoutMs ?? 600_000,
    // How often Node checks those timeouts; a tenth of the shorter one keeps them within 10 %.
    connectionsCheckingInterval: Math.max(50, Math.min(options.headersTimeoutMs ?? 30_000, 30_000) / 10),
  };
  const server: Server = options.tls
    ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key })
    : createHttpServer(serverOptions);

  /** Authenticates unless the path is health: an unknown path without a token is 401 too, no route map for strangers. */
  const authenticate = (method: string, pathname: string, header: string | undefined) =>
    method === 'GET' && pathname === '/v1/health' ? undefined : tokens.authenticate(header);

  server.on('request', async (req, res) => {
    const started = performance.now();
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const fields: Record<string, unknown> = { method: req.method };
    let status: number;
    try {
      const url = new URL(req.url ?? '/', 'http://server');
      fields.route = router.templateOf(url.pathname) ?? 'unmatched';
      const token = authenticate(req.method ?? '', url.pathname, req.headers.authorization);
      if (token) fields.token = token.name;
      const { route, params } = router.match(req.method ?? '', url.pathname);
      if (params.name !== undefined) fields.sandbox = params.name;
      status = await route.handle({
        req,
        res,
        url,
        params,
        token: token as never,
        signal: controller.signal,
      });
    } catch (error) {
      status = sendError(res, error);
      fields.code = wireError(error).body.error.code;
      logFailure(error, String(fields.route));
    }
    logRequest({ ...fields, status, ms: Math.round(performance.now() - started) });
  });

  // A request too slow (headers or body past their timeouts): 408 in the API's error shape, then the socket goes.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const { status, body } = timeout
      ? wireError(new RequestTimeoutError())
      : {
          status: 400,
          body: { error: { code: 'MALFORMED_BODY', message: 'The request is not valid HTTP/1.1.' } },
        };
    if (socket.writable) writeRawResponse(socket, status, body);
    else socket.destroy();
    logRequest({ event: 'client-error', status, code: body.error.code });
  });

  const streams = new Set<Duplex>();
  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const started = performance.now();
    const fields: Record<string, unknown> = { method: req.method, route: STREAM };
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'http://server');
      fields.route = router.templateOf(url.pathname) ?? 'unmatched';
      const token = tokens.authenticate(req.headers.authorization);
      fields.token = token.name;
      const { route, params } = router.match(req.method ?? '', url.pathname);
      if (route.template !== STREAM) throw new RouteNotFoundError(url.pathname);
      fields.sandbox = params.name;
      const sandbox = await sandboxes.get(token, params.name as string);
      streams.add(socket);
      acceptExecSocket(wss, req, socket, head, sandbox, {
        leases,
        pingMs: options.pingMs ?? 30_000,
        startTimeoutMs: 30_000,
        onClosed: (outcome) => {
          streams.delete(socket);
          logRequest({
            ...fields,
            status: 101,
            ...(outcome.code && { code: outcome.code }),
            ms: Math.round(performance.now() - started),
          });
        },
      });
    } catch (error) {
      const { status, body } = wireError(error);
      writeRawResponse(socket, status, body);
      logFailure(error, String(fields.route));
      logRequest({ ...fields, status, code: body.error.code, ms: Math.round(performance.now() - started) });
    }
  });

  let sweeping: Promise<void> | undefined;
  const sweep = async () => {
    for (const { lease, reason } of leases.due()) {
      try {
        await sandboxes.expire(lease.name);
        logRequest({ event: 'expired', sandbox: lease.name, token: lease.owner, reason });
      } catch (error) {
        logRequest({
          event: 'expire-failed',
          sandbox: lease.name,
          reason,
          code: wireError(error).body.error.code,
          error: (error as Error).message,
        });
      }
    }
    await leases
      .flush()
      .catch((error: Error) => logRequest({ event: 'lease-write-failed', error: error.message }));
  };
  const sweepOnce = () => {
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  // A restarted server first removes what lapsed while it was down.
  await sweepOnce();
  const sweeper = setInterval(sweepOnce, options.sweepMs ?? 1000);
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    port,
    routes: allRoutes.map((r) => `${r.method} ${r.template}`),
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = options.shutdownGraceMs ?? 10_000;
        const deadline = Date.now() + grace;
        while (streams.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        for (const client of wss.clients) client.terminate();
        for (const socket of streams) socket.destroy();
        server.closeAllConnections();
        await closed;
        await sweeping;
        await leases.flush(true);
        await sandboxes.closeAll();
      })();
      return closing;
    },
  };
}

/** Answers on a bare socket (an upgrade refused, a request that never parsed), then lets it go. */
function writeRawResponse(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // A client that never reads its answer must not hold the socket open.
  setTimeout(() => socket.destroy(), 2000).unref();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '') +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}
