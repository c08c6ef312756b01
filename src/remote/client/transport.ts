import { InvalidArgumentError } from '../../internal/errors.js';
import { errorFromServer, RemoteProtocolError, RemoteUnreachableError } from './errors.js';

/** How to reach a remote `hcs-sandbox serve`. */
export interface ConnectOptions {
  /** The server's base URL, `http(s)://host:port` (the `/v1` routes are under it). */
  url: string;
  /** The bearer token the server's operator issued (`hcs-sandbox serve --new-token NAME`). */
  token?: string;
  /** Replaces the global `fetch` (tests, proxies). */
  fetch?: typeof fetch;
  /** A request that answers nothing for this long fails with `RemoteUnreachableError` (default 60 s); creates and pulls are not limited. */
  requestTimeoutMs?: number;
  /**
   * The server's `--lease-seconds` (default 60): an open non-persistent
   * sandbox's lease is renewed every third of it.
   */
  leaseSeconds?: number;
}

export interface RequestOptions {
  /** A JSON body. */
  json?: unknown;
  /** A raw body (`application/octet-stream`), streamed when it is a stream. */
  body?: Uint8Array | string | ReadableStream<Uint8Array>;
  query?: Record<string, string>;
  signal?: AbortSignal;
  /** `false`: no time limit (long creates, pulls, big files). Default: the connection's. */
  timeoutMs?: number | false;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** An error body is a line of JSON: more than this is not one. */
const ERROR_BODY_LIMIT = 64 * 1024;

/** Up to `limit` bytes of a body as text; the rest is not read (the body is cancelled). */
async function boundedText(response: Response, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return '';
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function checkUrl(url: unknown): URL {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new InvalidArgumentError('url', 'an http:// or https:// URL of an hcs-sandbox server', url);
  }
  return parsed;
}

/** The `/v1` HTTP API of one server, with its token: every request and every error mapping goes through here. */
export class RemoteTransport {
  /** The server as the user gave it, for messages. */
  readonly url: string;
  readonly leaseSeconds: number;
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  /** A request's time limit; also the stream route's handshake limit. */
  readonly timeoutMs: number;

  constructor(options: ConnectOptions) {
    const url = checkUrl(options?.url);
    if (
      options.token !== undefined &&
      (typeof options.token !== 'string' || !/^[\x21-\x7e]+$/.test(options.token))
    )
      throw new InvalidArgumentError('token', 'printable ASCII without spaces', '(a token, not shown)');
    for (const field of ['requestTimeoutMs', 'leaseSeconds'] as const) {
      const value = options[field];
      if (value !== undefined && !(Number.isFinite(value) && value > 0))
        throw new InvalidArgumentError(field, 'a positive number', value);
    }
    this.url = url.origin + url.pathname.replace(/\/+$/, '');
    this.#base = new URL(`${this.url}/v1/`);
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.leaseSeconds = options.leaseSeconds ?? 60;
  }

  /** `route` below `/v1/` (segments already encoded), with its query. */
  urlOf(route: string, query?: Record<string, string>): URL {
    const url = new URL(route, this.#base);
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
    return url;
  }

  /** The same route as a WebSocket URL. */
  socketUrlOf(route: string): string {
    return this.urlOf(route).href.replace(/^http/, 'ws');
  }

  /** The headers every authenticated request carries. */
  authHeaders(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  /** Sends a request; any status of 400 and up becomes the typed error (errors.ts). */
  async request(method: string, route: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.authHeaders() };
    let body: RequestInit['body'];
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = options.body as RequestInit['body'];
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const signals = [options.signal, timeoutMs === false ? undefined : AbortSignal.timeout(timeoutMs)];
    const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
    let response: Response;
    try {
      response = await this.#fetch(this.urlOf(route, options.query), {
        method,
        headers,
        ...(body !== undefined && { body }),
        // A streamed body needs half duplex in Node's fetch.
        ...(body instanceof ReadableStream && { duplex: 'half' }),
        // The API never redirects; following one would send the token (and the files) elsewhere.
        redirect: 'manual',
        signal,
      } as RequestInit);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw this.unreachable(error, timeoutMs);
    }
    if (response.status >= 400) throw await this.errorOf(response);
    if (response.status >= 300) {
      await response.body?.cancel();
      const where = response.headers.get('location') ?? 'nowhere';
      throw new RemoteProtocolError(
        response.status,
        `a redirect to ${where.slice(0, 200)}, which the client does not follow (give that URL if you trust it)`,
      );
    }
    return response;
  }

  /** A JSON request and its JSON answer. */
  async json<T>(method: string, route: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, route, options);
    try {
      return (await response.json()) as T;
    } catch {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new RemoteProtocolError(
        response.status,
        `${method} /v1/${route} answered a body that is not JSON`,
      );
    }
  }

  /** A request whose answer has no body (204). */
  async call(method: string, route: string, options: RequestOptions = {}): Promise<void> {
    const response = await this.request(method, route, options);
    await response.body?.cancel();
  }

  /** The typed error of an error answer (at most 64 KiB of its body read: a server cannot make us hold more). */
  async errorOf(response: Response): Promise<Error> {
    let body: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      body = JSON.parse(await boundedText(response, ERROR_BODY_LIMIT)) as typeof body;
    } catch {
      body = undefined;
    }
    return errorFromServer(response.status, body?.error, this.url);
  }

  /** A failed connection as `RemoteUnreachableError` (refused, unresolvable, reset, timed out). */
  unreachable(error: unknown, timeoutMs: number | false): RemoteUnreachableError {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError')
      return new RemoteUnreachableError(this.url, `no answer within ${timeoutMs} ms`);
    // fetch says only "fetch failed": the reason (ECONNREFUSED, ENOTFOUND, a bad port) is in its cause.
    let what = error instanceof Error ? error.message : String(error);
    for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
      const code = (e as { code?: unknown }).code;
      what = typeof code === 'string' && !e.message.includes(code) ? `${code} (${e.message})` : e.message;
    }
    return new RemoteUnreachableError(this.url, what, { cause: error });
  }
}
