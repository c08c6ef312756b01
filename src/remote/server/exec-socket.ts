import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { InvalidArgumentError } from '../../internal/errors.js';
import type { CommandHandle } from '../../sandbox/index.js';
import type { SandboxLike } from '../../sandbox/sandbox-host.js';
import { MalformedBodyError } from './errors.js';
import { wireError } from './http-errors.js';
import { JSON_BODY_LIMIT } from './http-io.js';
import type { LeaseBook } from './leases.js';
import { parseStreamStart } from './requests.js';

/**
 * `GET /v1/sandboxes/{name}/commands/stream`: one command over a WebSocket
 * (docs/remote.md, "Streaming a command"). The upgrade is authenticated and
 * the sandbox resolved before the socket is accepted (server.ts); this runs
 * the accepted socket.
 */

/** Output waits in the process's pipe while this much is queued on the socket. */
export const SOCKET_HIGH_WATER = 4 * 1024 * 1024;
const STDOUT = 1;
const STDERR = 2;

export interface ExecSocketOptions {
  leases: LeaseBook;
  /** Ping period; a socket that missed the previous pong is cut. */
  pingMs: number;
  /** Time to send the start message. */
  startTimeoutMs: number;
  /** Called once the socket closed, with how the command ended (for the request log). */
  onClosed: (outcome: { status: number; code?: string }) => void;
}

export function execSocketServer(): WebSocketServer {
  // Client messages are stdin chunks and small JSON: 1 MiB each is plenty (ws refuses more with 1009).
  return new WebSocketServer({ noServer: true, maxPayload: JSON_BODY_LIMIT, perMessageDeflate: false });
}

export function acceptExecSocket(
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  sandbox: SandboxLike,
  options: ExecSocketOptions,
): void {
  wss.handleUpgrade(req, socket, head, (ws) => runExecSocket(ws, sandbox, options));
}

function sendJson(ws: WebSocket, value: unknown): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(value));
}

function fail(ws: WebSocket, error: unknown): string {
  const { status, body } = wireError(error);
  sendJson(ws, { type: 'error', ...body });
  if (ws.readyState === WebSocket.OPEN) ws.close(status === 400 ? 1008 : 1011, body.error.code.slice(0, 100));
  return body.error.code;
}

function runExecSocket(ws: WebSocket, sandbox: SandboxLike, options: ExecSocketOptions): void {
  const release = options.leases.hold(sandbox.name);
  let handle: CommandHandle<Buffer> | undefined;
  let exited = false;
  let outcome: { status: number; code?: string } = { status: 101 };

  // Liveness: a client that vanished without a FIN (a cable, a sleeping laptop) is cut within two pings.
  let alive = true;
  ws.on('pong', () => {
    alive = true;
  });
  const pinger = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    ws.ping();
  }, options.pingMs);
  const startTimer = setTimeout(() => {
    outcome = { status: 408, code: 'REQUEST_TIMEOUT' };
    sendJson(ws, { type: 'error', error: { code: 'REQUEST_TIMEOUT', message: 'No start message in time.' } });
    ws.close(1008, 'REQUEST_TIMEOUT');
  }, options.startTimeoutMs);

  ws.on('close', () => {
    clearInterval(pinger);
    clearTimeout(startTimer);
    release();
    // The client went before the command ended: the command (and what it started) goes too.
    if (handle && !exited) void handle.kill().catch(() => {});
    options.onClosed(outcome);
  });
  ws.on('error', () => ws.terminate());

  /** Pauses output while the socket is backed up; resumes from the send callbacks as it drains. */
  const flow = (h: CommandHandle<Buffer>) => {
    if (ws.bufferedAmount > SOCKET_HIGH_WATER) {
      h.stdout?.pause();
      h.stderr?.pause();
    } else {
      h.stdout?.resume();
      h.stderr?.resume();
    }
  };
  const forward = (channel: number) => (chunk: Buffer) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(Buffer.concat([Buffer.of(channel), chunk]), () => handle && flow(handle));
    if (handle) flow(handle);
  };

  const start = async (message: Record<string, unknown>) => {
    const request = parseStreamStart(message);
    handle = await sandbox.commands.spawn(request.command, {
      encoding: 'buffer',
      openStdin: true,
      // The output goes to the socket as it comes; kept for the result too, a stream without end would fill memory.
      keepOutput: false,
      ...(request.cwd !== undefined && { cwd: request.cwd }),
      ...(request.env !== undefined && { env: request.env }),
      ...(request.timeoutMs !== undefined && { timeoutMs: request.timeoutMs }),
      ...(request.tty !== undefined && { tty: request.tty }),
      ...(request.cols !== undefined && { cols: request.cols }),
      ...(request.rows !== undefined && { rows: request.rows }),
      onStdout: forward(STDOUT),
      onStderr: forward(STDERR),
    });
    const h = handle;
    h.stdin?.on('error', () => {}); // a command that exits without reading its stdin
    sendJson(ws, { type: 'started', pid: h.pid });
    const result = await h.wait();
    exited = true;
    outcome = { status: 200 };
    sendJson(ws, { type: 'exit', exitCode: result.exitCode, timedOut: result.timedOut });
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    try {
      if (!handle) {
        if (isBinary || exited || outcome.status !== 101) return;
        clearTimeout(startTimer);
        outcome = { status: 102 };
        start(parseMessage(bytes)).catch((error) => {
          outcome = { status: wireError(error).status, code: fail(ws, error) };
        });
        return;
      }
      if (isBinary) {
        if (handle.stdin?.writable && !handle.stdin.write(bytes)) {
          // The command reads slower than the client sends: stop reading the socket until it catches up.
          ws.pause();
          handle.stdin.once('drain', () => ws.resume());
        }
        return;
      }
      control(handle, parseMessage(bytes));
    } catch (error) {
      outcome = { status: wireError(error).status, code: fail(ws, error) };
      if (handle && !exited) void handle.kill().catch(() => {});
    }
  });
}

function parseMessage(bytes: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new MalformedBodyError(`a text message does not parse: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedBodyError('a text message is not a JSON object');
  return value as Record<string, unknown>;
}

function cells(field: string, value: unknown): number {
  if (!(Number.isInteger(value) && (value as number) > 0 && (value as number) <= 0xffff))
    throw new InvalidArgumentError(field, 'a whole number of character cells from 1 to 65535', value);
  return value as number;
}

function control(handle: CommandHandle<Buffer>, message: Record<string, unknown>): void {
  switch (message.type) {
    case 'stdin-end':
      handle.stdin?.end();
      return;
    case 'kill':
      void handle.kill().catch(() => {});
      return;
    case 'resize':
      void handle.resize(cells('cols', message.cols), cells('rows', message.rows)).catch(() => {});
      return;
    default:
      throw new InvalidArgumentError(
        'type',
        "'stdin-end', 'kill' or 'resize' (or a binary stdin message)",
        message.type,
      );
  }
}
