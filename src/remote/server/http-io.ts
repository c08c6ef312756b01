import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, MalformedBodyError } from './errors.js';
import { wireError } from './http-errors.js';

/** JSON bodies are small requests (a create, a command): 1 MiB is far above any honest one. */
export const JSON_BODY_LIMIT = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status = 204): void {
  res.writeHead(status);
  res.end();
}

/** Answers with the error's wire form; returns the status sent (for the log). */
export function sendError(res: ServerResponse, error: unknown): number {
  const { status, body } = wireError(error);
  if (res.headersSent) {
    // Mid-stream there is no status left to send: cut the response so the client sees it end early.
    res.destroy();
    return status;
  }
  const headers: Record<string, string> = {};
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  if (status === 413) headers.connection = 'close';
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
  return status;
}

/** A declared length over the cap is refused before a byte is read. */
function checkDeclaredLength(req: IncomingMessage, limit: number, what: 'JSON body' | 'file body'): void {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit, what);
}

/**
 * Reads `req` chunk by chunk into `sink`, failing past `limit` bytes. On
 * failure the request is left paused, not destroyed: the caller can still
 * answer (413, with `connection: close`) before the socket goes.
 */
function readCapped(
  req: IncomingMessage,
  limit: number,
  what: 'JSON body' | 'file body',
  sink: { write(chunk: Buffer): boolean; onDrain(resume: () => void): void },
): Promise<number> {
  checkDeclaredLength(req, limit, what);
  return new Promise((resolve, reject) => {
    let length = 0;
    const fail = (error: Error): void => {
      req.pause();
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        fail(new BodyTooLargeError(limit, what));
        return;
      }
      if (!sink.write(chunk)) {
        req.pause();
        sink.onDrain(() => req.resume());
      }
    };
    const onEnd = (): void => resolve(length);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', fail);
    // The client went away before sending all of it (a dropped socket): no 'end' will come.
    req.once('close', () => {
      if (!req.complete) fail(new MalformedBodyError('the connection closed before the whole body came'));
    });
  });
}

/**
 * Reads a JSON object body of at most `limit` bytes. No body (or an empty
 * one) is `{}`: routes whose fields are all optional take a bare POST.
 */
export async function readJsonObject(
  req: IncomingMessage,
  limit = JSON_BODY_LIMIT,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  const length = await readCapped(req, limit, 'JSON body', {
    write: (chunk) => chunks.push(chunk) > 0,
    onDrain: () => {},
  });
  if (length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks, length).toString('utf8'));
  } catch (error) {
    throw new MalformedBodyError(`it does not parse: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedBodyError(`it is ${Array.isArray(value) ? 'an array' : typeof value}, not an object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Streams a request body into `path` (created new, owner-only), refusing it
 * past `limit` bytes: memory stays a few chunks whatever the file's size.
 * The caller removes the file whatever happens.
 */
export async function receiveToFile(req: IncomingMessage, path: string, limit: number): Promise<number> {
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  // A disk error fails the upload; one after a failed upload (the stream destroyed) is no news.
  const failed = new Promise<never>((_, reject) => out.on('error', reject));
  failed.catch(() => {});
  try {
    await Promise.race([once(out, 'open'), failed]);
    const length = await Promise.race([
      readCapped(req, limit, 'file body', {
        write: (chunk) => out.write(chunk),
        onDrain: (resume) => out.once('drain', resume),
      }),
      failed,
    ]);
    out.end();
    await Promise.race([once(out, 'close'), failed]);
    return length;
  } finally {
    if (!out.closed) out.destroy();
  }
}

/** Waits until a response has been flushed or the connection dropped. */
export async function responseDone(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return;
  await Promise.race([once(res, 'finish'), once(res, 'close')]);
}
