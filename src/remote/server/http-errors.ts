import { HcsSandboxError } from '../../internal/errors.js';

/**
 * How an error becomes an HTTP answer (docs/remote.md, "Errors"): the
 * server's own codes have their statuses; every other product error is
 * answered by its kind; anything else is a bug, answered 500 INTERNAL with no
 * detail (a stack or a host path is nobody's business over the wire).
 */

const BY_CODE: Readonly<Record<string, number>> = {
  UNAUTHORIZED: 401,
  QUOTA_EXCEEDED: 429,
  BODY_TOO_LARGE: 413,
  OUTPUT_TOO_LARGE: 413,
  MALFORMED_BODY: 400,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
};

const BY_KIND: Readonly<Record<string, number>> = {
  'invalid-argument': 400,
  'not-found': 404,
  conflict: 409,
  'invalid-state': 409,
  unavailable: 503,
  host: 502,
};

export interface WireError {
  status: number;
  body: { error: { code: string; message: string } };
}

export function wireError(error: unknown): WireError {
  if (error instanceof HcsSandboxError) {
    const status = BY_CODE[error.code] ?? BY_KIND[error.kind] ?? 500;
    return { status, body: { error: { code: error.code, message: error.message } } };
  }
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: 'The server failed on this request; its log says why.' } },
  };
}
