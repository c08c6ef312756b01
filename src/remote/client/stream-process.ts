import { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { InvalidArgumentError } from '../../internal/errors.js';
import type { CommandLauncher, CommandProcess } from '../../sandbox/commands.js';
import { errorFromServer, RemoteProtocolError, RemoteUnreachableError, statusOfCode } from './errors.js';
import type { RemoteTransport } from './transport.js';

/**
 * Commands on a remote host, over the stream route's WebSocket, in the shape
 * HCS processes have: the product's `CommandHandle` (output, timeouts, abort,
 * kill, exit code) drives it exactly as it drives a local command.
 *
 * Frames (docs/remote.md): binary from the server is `[channel, ...bytes]`
 * (1 stdout, 2 stderr); binary to it is stdin. Closing the socket before the
 * exit frame makes the server kill the command's whole tree, so a client that
 * dies leaves nothing running.
 */

const STDOUT = 1;
const STDERR = 2;
/** Stdin goes in messages of at most this size (the server caps a message at 1 MiB). */
const STDIN_PIECE = 256 * 1024;

interface ServerMessage {
  type?: unknown;
  pid?: unknown;
  exitCode?: unknown;
  error?: { code?: unknown; message?: unknown };
}

class StreamProcess implements CommandProcess {
  pid = 0;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable | null;
  readonly started: Promise<void>;
  readonly #socket: WebSocket;
  readonly #exit: Promise<{ exitCode: number }>;
  #exited = false;
  /** Output streams whose reader is behind: the socket stays paused until none is. */
  readonly #full = new Set<Readable>();

  constructor(socket: WebSocket, transport: RemoteTransport, tty: boolean) {
    this.#socket = socket;
    const output = (): Readable => {
      const readable: Readable = new Readable({
        read: () => {
          this.#full.delete(readable);
          if (this.#full.size === 0 && socket.isPaused) socket.resume();
        },
      });
      return readable;
    };
    this.stdout = output();
    // Under a pseudo console the server sends everything on stdout, as HCS's EmulateConsole does.
    this.stderr = tty ? null : output();
    this.stdin = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        // Input after the command exited goes nowhere, as with a closed pipe.
        if (socket.readyState !== WebSocket.OPEN || this.#exited) return done();
        // In pieces the server takes (it refuses messages over 1 MiB); done once the last is sent.
        for (let at = 0; at < chunk.length; at += STDIN_PIECE) {
          const last = at + STDIN_PIECE >= chunk.length;
          socket.send(
            chunk.subarray(at, at + STDIN_PIECE),
            { binary: true },
            last ? () => done() : undefined,
          );
        }
        if (chunk.length === 0) done();
      },
      final: (done) => {
        if (socket.readyState === WebSocket.OPEN && !this.#exited)
          socket.send(JSON.stringify({ type: 'stdin-end' }));
        done();
      },
    });
    let settleStart: { resolve: () => void; reject: (e: unknown) => void } | undefined;
    let settleExit: { resolve: (v: { exitCode: number }) => void; reject: (e: unknown) => void } | undefined;
    this.started = new Promise((resolve, reject) => {
      settleStart = { resolve, reject };
    });
    this.#exit = new Promise((resolve, reject) => {
      settleExit = { resolve, reject };
    });
    this.#exit.catch(() => undefined);
    const fail = (error: unknown) => {
      settleStart?.reject(error);
      settleExit?.reject(error);
      // Before `started` nobody holds the streams (the launch rejects instead): an error there would go unheard.
      if (this.pid === 0) return;
      for (const s of [this.stdout, this.stderr]) if (s && !s.readableEnded) s.destroy(error as Error);
    };
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        const target =
          data[0] === STDOUT ? this.stdout : data[0] === STDERR ? (this.stderr ?? this.stdout) : null;
        if (!target) return fail(new RemoteProtocolError(101, `an output frame on channel ${data[0]}`));
        if (!target.push(data.subarray(1))) {
          // The consumer is behind: stop reading the socket, so the server's buffer fills and it pauses the command.
          this.#full.add(target);
          socket.pause();
        }
        return;
      }
      let message: ServerMessage;
      try {
        message = JSON.parse(data.toString('utf8')) as ServerMessage;
      } catch {
        return fail(new RemoteProtocolError(101, 'a text frame that is not JSON'));
      }
      if (message.type === 'started' && typeof message.pid === 'number') {
        this.pid = message.pid;
        settleStart?.resolve();
      } else if (message.type === 'exit' && typeof message.exitCode === 'number') {
        this.#exited = true;
        this.stdout.push(null);
        this.stderr?.push(null);
        settleExit?.resolve({ exitCode: message.exitCode });
      } else if (message.type === 'error') {
        fail(errorFromServer(statusOfCode(message.error?.code), message.error, transport.url));
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        let body: { error?: { code?: unknown; message?: unknown } } | undefined;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          body = undefined;
        }
        fail(errorFromServer(response.statusCode ?? 0, body?.error, transport.url));
        socket.terminate();
      });
    });
    socket.on('error', (error) => fail(transport.unreachable(error, false)));
    socket.on('close', (code) => {
      if (!this.#exited)
        fail(
          new RemoteUnreachableError(
            transport.url,
            `the connection closed (code ${code}) before the command exited`,
          ),
        );
    });
  }

  wait(): Promise<{ exitCode: number }> {
    return this.#exit;
  }

  async terminate(): Promise<void> {
    if (!this.#exited && this.#socket.readyState === WebSocket.OPEN)
      this.#socket.send(JSON.stringify({ type: 'kill' }));
  }

  async resizeConsole(cols: number, rows: number): Promise<void> {
    if (!this.#exited && this.#socket.readyState === WebSocket.OPEN)
      this.#socket.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  async close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CONNECTING) this.#socket.terminate();
    else if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000);
  }
}

/** Starts commands in the remote sandbox `name` through the stream route. */
export function streamLauncher(transport: RemoteTransport, name: string): CommandLauncher {
  return async (commandLine, options) => {
    if (options.user !== undefined)
      throw new InvalidArgumentError(
        'user',
        'no user on a remote host',
        options.user,
        'the wire API v1 runs commands as the server runs them; leave user out',
      );
    options.signal?.throwIfAborted();
    const socket = new WebSocket(
      transport.socketUrlOf(`sandboxes/${encodeURIComponent(name)}/commands/stream`),
      { headers: transport.authHeaders(), perMessageDeflate: false, handshakeTimeout: transport.timeoutMs },
    );
    const process = new StreamProcess(socket, transport, options.tty === true);
    const onAbort = () => socket.terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('open', () => {
      socket.send(
        JSON.stringify({
          type: 'start',
          command: commandLine,
          ...(options.cwd !== undefined && { cwd: options.cwd }),
          ...(options.env !== undefined && { env: options.env }),
          ...(options.tty && { tty: true, cols: options.cols ?? 80, rows: options.rows ?? 25 }),
        }),
      );
    });
    try {
      await process.started;
    } catch (error) {
      socket.terminate();
      throw options.signal?.aborted ? options.signal.reason : error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return process;
  };
}
