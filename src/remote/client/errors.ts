import {
  ConflictError,
  type ErrorKind,
  HcsSandboxError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  UnavailableError,
} from '../../internal/errors.js';

/**
 * The errors a remote host's answers become on the client. The server sends
 * `{"error":{"code","message"}}` with the product error's `code`; the class
 * here comes from the HTTP status (so `err.kind` and the kind bases work as
 * they do locally) and `code` is the server's, unchanged: a missing sandbox is
 * `err.code === 'SANDBOX_NOT_FOUND'` whether it is local or remote. Every one
 * carries `status` (the HTTP status, 0 when there was no answer).
 */

/** The server's own 409 codes that mean "wrong state" rather than "taken" (docs/errors.md, invalid-state). */
const INVALID_STATE_CODES = new Set([
  'HANDLE_CLOSED',
  'JOB_CLOSED',
  'SCRATCH_LAYER_STATE',
  'SANDBOX_NOT_RUNNING',
  'SANDBOX_RUNNING',
  'COMMIT_UNAVAILABLE',
  'LAYER_NOT_REMOVED',
  'STORE_ROOT_NOT_SECURE',
  'SANDBOX_NOT_VM',
]);

/** A failure the server reported that has no kind base of its own: 5xx (502 is `host`), or an unexpected status. */
export class RemoteError extends HcsSandboxError {
  readonly status: number;

  override get kind(): ErrorKind {
    return this.status === 502 ? 'host' : 'failure';
  }

  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/**
 * 401: no token, or one the server does not know. An invalid argument (the
 * token), as the server's own `UnauthorizedError` is: one code, one kind.
 */
export class RemoteAuthError extends InvalidArgumentError {
  readonly status = 401;

  constructor(url: string, message: string) {
    super('token', 'a token the server knows', undefined);
    Object.defineProperty(this, 'code', { value: 'UNAUTHORIZED', enumerable: true });
    this.message =
      `${url} refused the token: ${message.replace(/\.?$/, '.')} The client takes it in the \`token\` ` +
      'option (SDK), or HCS_SANDBOX_TOKEN, HCS_SANDBOX_TOKEN_FILE or --token-file (CLI).';
  }
}

/** 429: the token's quota (sandboxes, memory, lifetime) would be exceeded: a conflict, as on the server. */
export class RemoteQuotaError extends ConflictError {
  readonly status = 429;

  constructor(message: string) {
    super('QUOTA_EXCEEDED', `${message} (remove a sandbox you no longer need, or ask for a larger quota)`);
  }
}

/** 404 from the server: the sandbox (or image, or path) is not there, or belongs to another token. */
export class RemoteNotFoundError extends NotFoundError {
  readonly status = 404;
}

/** 409 from the server: the name is taken, or another request holds the sandbox. */
export class RemoteConflictError extends ConflictError {
  readonly status = 409;
}

/** 409 from the server with a wrong-state code (`SANDBOX_NOT_RUNNING`, ...). */
export class RemoteInvalidStateError extends InvalidStateError {
  readonly status = 409;
}

/** 503 from the server: its host cannot do it (no HCS, a missing function, an image it cannot run). */
export class RemoteUnavailableError extends UnavailableError {
  readonly status = 503;
}

/**
 * 400, 405, 408 or 413 from the server: the request was refused as it stood.
 * `field` is `request`: the server's message names the field itself.
 */
export class RemoteInvalidRequestError extends InvalidArgumentError {
  readonly status: number;

  constructor(status: number, code: string, message: string) {
    super('request', 'a request the server accepts', undefined);
    this.status = status;
    // The server's code and message, not InvalidArgumentError's own (as TimeoutError does for its code).
    Object.defineProperty(this, 'code', { value: code });
    this.message = message;
  }
}

/** No answer from the server: refused, unresolvable, reset, or slower than the timeout. */
export class RemoteUnreachableError extends UnavailableError {
  readonly status = 0;
  readonly url: string;

  constructor(url: string, what: string, options?: { cause?: unknown }) {
    super(
      'REMOTE_UNREACHABLE',
      `No answer from the hcs-sandbox server at ${url}: ${what}. ` +
        'Check the URL (scheme, host, port), that `hcs-sandbox serve` runs there, and that no firewall or proxy is in between.',
      options,
    );
    this.url = url;
  }
}

/** Something the wire API v1 does not do yet (copying folders, `user`, local-only CLI verbs). */
export class RemoteUnsupportedError extends UnavailableError {
  readonly status = 0;

  constructor(what: string, instead: string) {
    super('REMOTE_UNSUPPORTED', `${what} is not available on a remote host: ${instead}.`);
  }
}

/** The server answered something the wire API v1 does not allow (a different API version, a malformed body). */
export class RemoteProtocolError extends RemoteError {
  constructor(status: number, what: string) {
    super(status, 'REMOTE_PROTOCOL', `The server broke the hcs-sandbox wire API v1: ${what}.`);
  }
}

/**
 * The HTTP status a code stands for where the server reports an error without
 * one (a stream's error frame, a pull's error line), so the class is the one
 * the same failure over HTTP gives.
 */
export function statusOfCode(code: unknown): number {
  if (typeof code !== 'string') return 500;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code === 'INVALID_ARGUMENT' || code === 'MALFORMED_BODY') return 400;
  if (INVALID_STATE_CODES.has(code) || code.endsWith('_EXISTS') || code.endsWith('_BUSY')) return 409;
  if (code === 'UNAUTHORIZED') return 401;
  if (code === 'QUOTA_EXCEEDED') return 429;
  if (code === 'OUTPUT_TOO_LARGE' || code === 'BODY_TOO_LARGE') return 413;
  if (code === 'REQUEST_TIMEOUT') return 408;
  return 500;
}

/** The error for a server's `{"error":{"code","message"}}` answered with `status`. */
export function errorFromServer(
  status: number,
  body: { code?: unknown; message?: unknown } | undefined,
  url: string,
): HcsSandboxError {
  const code = typeof body?.code === 'string' && body.code ? body.code : undefined;
  const message = typeof body?.message === 'string' && body.message ? body.message : undefined;
  if (code === undefined || message === undefined)
    return new RemoteProtocolError(status, `status ${status} without an {"error":{"code","message"}} body`);
  switch (status) {
    case 401:
      return new RemoteAuthError(url, message);
    case 429:
      return new RemoteQuotaError(message);
    case 404:
      return new RemoteNotFoundError(code, message);
    case 409:
      return INVALID_STATE_CODES.has(code)
        ? new RemoteInvalidStateError(code, message)
        : new RemoteConflictError(code, message);
    case 503:
      return new RemoteUnavailableError(code, message);
    case 400:
    case 405:
    case 408:
    case 413:
      return new RemoteInvalidRequestError(status, code, message);
    default:
      return new RemoteError(status, code, message);
  }
}
