import {
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../../internal/errors.js';

/**
 * The errors only the API server raises (docs/remote.md lists their HTTP
 * statuses). Each derives from a kind base, so `kind` stays the one way to
 * react by sort of failure; the server maps its own codes to statuses before
 * it falls back to kinds (http-errors.ts).
 */

/** Sets `code` on an error whose base fixes another one (InvalidArgumentError's is INVALID_ARGUMENT). */
function withCode<E extends Error>(error: E, code: string): E {
  Object.defineProperty(error, 'code', { value: code, enumerable: true });
  return error;
}

/**
 * No bearer token, or one the token file does not know. The token presented
 * is never part of the message (it may be a real token of another server).
 */
export class UnauthorizedError extends InvalidArgumentError {
  constructor(reason: 'missing' | 'unknown') {
    super(
      'Authorization',
      "'Bearer <token>' with a token from the server's token file",
      reason === 'missing' ? 'no such header' : 'a token the server does not know',
      'create one with `hcs-sandbox serve --new-token NAME`',
    );
    withCode(this, 'UNAUTHORIZED');
  }
}

/** A per-token quota would be exceeded by the request. */
export class QuotaExceededError extends ConflictError {
  readonly quota: 'maxSandboxes' | 'maxMemoryMB';
  readonly limit: number;
  readonly used: number;

  constructor(quota: QuotaExceededError['quota'], limit: number, used: number, requested: number) {
    super(
      'QUOTA_EXCEEDED',
      `Quota ${quota} of this token is ${limit}; ${used} in use and ${requested} more asked for. ` +
        'Remove a sandbox of this token, ask for less, or raise the quota in the token file.',
    );
    this.quota = quota;
    this.limit = limit;
    this.used = used;
  }
}

/** A request body over its cap (JSON bodies 1 MiB, file bodies `--max-file-bytes`). */
export class BodyTooLargeError extends InvalidArgumentError {
  readonly limitBytes: number;

  constructor(limitBytes: number, what: 'JSON body' | 'file body') {
    super('body', `a ${what} of at most ${limitBytes} bytes`, 'more', 'send less, or raise the cap');
    withCode(this, 'BODY_TOO_LARGE');
    this.limitBytes = limitBytes;
  }
}

/** A JSON body that does not parse, or is not an object. */
export class MalformedBodyError extends InvalidArgumentError {
  constructor(detail: string) {
    super('body', 'a JSON object (content-type: application/json)', 'something else', detail);
    withCode(this, 'MALFORMED_BODY');
  }
}

/** A command's output passed the server's cap on `POST .../commands`; the command was killed. */
export class OutputTooLargeError extends UnavailableError {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(
      'OUTPUT_TOO_LARGE',
      `The command wrote more than ${limitBytes} bytes to stdout or stderr and was killed; ` +
        'use the stream route (GET .../commands/stream, a WebSocket) for large output.',
    );
    this.limitBytes = limitBytes;
  }
}

/** No route of that path. */
export class RouteNotFoundError extends NotFoundError {
  constructor(path: string) {
    super(
      'ROUTE_NOT_FOUND',
      `No route ${JSON.stringify(path.slice(0, 200))}; the API is under /v1 (GET /v1/openapi.json lists it).`,
    );
  }
}

/** A route that exists, asked with a method it does not take. */
export class MethodNotAllowedError extends InvalidArgumentError {
  readonly allowedMethods: string[];

  constructor(method: string, allowed: string[]) {
    super('method', `one of ${allowed.join(', ')}`, method);
    withCode(this, 'METHOD_NOT_ALLOWED');
    this.allowedMethods = allowed;
  }
}

/** The client took longer than the server's headers/request timeout to send its request. */
export class RequestTimeoutError extends UnavailableError {
  constructor() {
    super('REQUEST_TIMEOUT', 'The request was not received in time; send it again, faster or smaller.');
  }
}

/**
 * `serve --listen` on an address others can reach, without TLS or without a
 * token file: a token sent in clear, or a token nobody chose, would be exposed.
 */
export class InsecureListenError extends InvalidArgumentError {
  constructor(listen: string, missing: string[]) {
    super(
      'listen',
      'a loopback address (127.0.0.1, ::1, localhost), or any address with TLS and a token file',
      listen,
      `add ${missing.join(' and ')}`,
    );
    withCode(this, 'INSECURE_LISTEN');
  }
}
