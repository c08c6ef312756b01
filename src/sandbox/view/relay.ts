import { createServer, type Server, type Socket, connect as socketConnect } from 'node:net';
import { InvalidArgumentError } from '../../internal/errors.js';
import { ViewPortInUseError } from './errors.js';

/**
 * A loopback TCP port relayed to a VM's video monitor pipe, byte for byte.
 *
 * The VM worker serves the VM's screen as RDP on a named pipe, and mstsc
 * cannot open a pipe: disco-vm relays a loopback port to it for that reason
 * (discobox-ai/vm pkg/machine/hcs/console_windows.go, `openViewer` and `relay`).
 * The relay never looks into the bytes: the RDP session is between the viewer
 * and the VM worker. Backpressure is `stream.pipe`'s: a side that does not read
 * stops the other side being read, so a stalled viewer never makes this
 * process buffer a screen's worth of updates.
 *
 * One viewer at a time: the console is a single session ("the console takes
 * one viewer at a time; a second connection takes it over from the first",
 * console_windows.go). A takeover would silently cut off whoever is watching,
 * so a second viewer is refused (its connection closed) and reported instead.
 */

/** How long a connection that arrives while a viewer is connected waits for that viewer to go. */
export const RECONNECT_GRACE_MS = 500;

/** The only address the relay listens on: the screen is never offered to the network. */
export const RELAY_HOST = '127.0.0.1';

/** What happens to viewers, for a CLI to print. */
export type RelayEvent =
  | { type: 'viewer-connected'; viewer: string }
  | { type: 'viewer-refused'; viewer: string }
  | { type: 'viewer-closed'; viewer: string; bytesToVm: number; bytesFromVm: number; error?: Error }
  | { type: 'pipe-unavailable'; viewer: string; pipe: string; error: Error };

/** Why a relay ended. */
export type RelayEndReason = 'closed' | 'aborted' | 'vm-stopped' | 'viewer-exited';

export interface VideoRelayOptions {
  /** The VM's video monitor pipe (`\\.\pipe\...`), or any path `net.connect` opens (a Unix socket in tests). */
  pipePath: string;
  /** The loopback port; 0 (the default) takes a free one. */
  port?: number | undefined;
  /** Aborting ends the relay (reason `aborted`). */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: RelayEvent) => void) | undefined;
}

export interface VideoRelay {
  /** The port the relay listens on, on 127.0.0.1. */
  readonly port: number;
  /** Whether a viewer is connected now. */
  readonly viewerConnected: boolean;
  /** Settles (never rejects) once the relay has stopped and released its port and connections. */
  readonly done: Promise<RelayEndReason>;
  /** Stops listening and cuts the viewer off; idempotent, resolves when everything is released. */
  close(reason?: RelayEndReason): Promise<RelayEndReason>;
}

/** Checks the port before anything listens: a whole number from 0 to 65535. */
export function checkRelayPort(port: unknown): number {
  if (port === undefined) return 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('port', 'a whole number from 0 to 65535 (0 takes a free port)', port);
  }
  return port;
}

function checkPipePath(pipePath: unknown): string {
  if (
    typeof pipePath !== 'string' ||
    pipePath.length === 0 ||
    pipePath.length > 4096 ||
    pipePath.includes('\0')
  ) {
    throw new InvalidArgumentError('pipePath', 'the path of the VM video monitor pipe', pipePath);
  }
  return pipePath;
}

/** Starts listening on 127.0.0.1 and relays each viewer (one at a time) to `pipePath`. */
export async function startVideoRelay(options: VideoRelayOptions): Promise<VideoRelay> {
  const port = checkRelayPort(options.port);
  const pipePath = checkPipePath(options.pipePath);
  options.signal?.throwIfAborted();
  const server = createServer({ noDelay: true });
  await listen(server, port);
  return new Relay(server, pipePath, options);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new ViewPortInUseError(port, { cause: error })
          : error,
      );
    };
    server.once('error', onError);
    // exclusive: a port another relay (or process in a cluster) listens on is refused, not shared.
    server.listen({ host: RELAY_HOST, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

class Relay implements VideoRelay {
  readonly port: number;
  readonly done: Promise<RelayEndReason>;
  readonly #server: Server;
  readonly #pipePath: string;
  readonly #onEvent: (event: RelayEvent) => void;
  #session: Session | undefined;
  /** Connections that arrived while a viewer was connected, waiting out the reconnect grace. */
  readonly #waiting = new Set<Socket>();
  #closing: Promise<RelayEndReason> | undefined;
  #resolveDone!: (reason: RelayEndReason) => void;
  readonly #onAbort = () => void this.close('aborted');
  readonly #signal: AbortSignal | undefined;

  constructor(server: Server, pipePath: string, options: VideoRelayOptions) {
    this.#server = server;
    this.#pipePath = pipePath;
    this.#signal = options.signal;
    const listener = options.onEvent;
    // A listener that throws must not take the relay (or the process) down with it.
    this.#onEvent = (event) => {
      try {
        listener?.(event);
      } catch {
        // the listener's own business
      }
    };
    this.port = (server.address() as { port: number }).port;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    server.on('connection', (socket) => this.#accept(socket));
    // After listening, a server error (EMFILE on accept) ends the relay rather than the process.
    server.on('error', () => void this.close('closed'));
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#signal?.aborted) void this.close('aborted');
  }

  get viewerConnected(): boolean {
    return this.#session !== undefined;
  }

  close(reason: RelayEndReason = 'closed'): Promise<RelayEndReason> {
    this.#closing ??= (async () => {
      this.#signal?.removeEventListener('abort', this.#onAbort);
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#waiting) socket.destroy();
      this.#waiting.clear();
      await this.#session?.end();
      await closed;
      this.#resolveDone(reason);
      return reason;
    })();
    return this.#closing;
  }

  #accept(socket: Socket): void {
    const viewer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const current = this.#session;
    if (!current) {
      this.#startSession(socket, viewer);
      return;
    }
    // A client that reconnects at once (xfreerdp retries with RDP security after a refused TLS
    // negotiation) may be accepted before the end of its previous connection is read: it gets
    // the slot if that session ends within the grace; anyone else is refused after it.
    socket.pause();
    this.#waiting.add(socket);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, RECONNECT_GRACE_MS).unref());
    void Promise.race([current.finished, grace]).then(() => {
      if (!this.#waiting.delete(socket)) return; // destroyed by close()
      if (this.#session) {
        this.#onEvent({ type: 'viewer-refused', viewer });
        socket.destroy();
      } else {
        this.#startSession(socket, viewer);
      }
    });
  }

  #startSession(socket: Socket, viewer: string): void {
    const session = new Session(socket, this.#pipePath, viewer, this.#onEvent);
    this.#session = session;
    // The slot is free as soon as the session is over, before its sockets have finished closing.
    void session.finished.then(() => {
      if (this.#session === session) this.#session = undefined;
    });
  }
}

/** One viewer's connection and its connection to the pipe; both end together. */
class Session {
  /** Settles when the session is over (its sockets are being destroyed). */
  readonly finished: Promise<void>;
  /** Settles once both sockets are closed. */
  readonly ended: Promise<void>;
  readonly #viewer: Socket;
  readonly #pipe: Socket;
  #finished = false;
  #reachedPipe = false;
  #bytesToVm = 0;
  #bytesFromVm = 0;
  #resolveEnded!: () => void;
  #resolveFinished!: () => void;

  constructor(
    viewer: Socket,
    readonly pipePath: string,
    readonly name: string,
    readonly onEvent: (event: RelayEvent) => void,
  ) {
    this.#viewer = viewer;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
    const pipe = socketConnect(pipePath);
    this.#pipe = pipe;
    viewer.on('data', (chunk: Buffer) => {
      this.#bytesToVm += chunk.length;
    });
    pipe.on('data', (chunk: Buffer) => {
      this.#bytesFromVm += chunk.length;
    });
    // What the viewer sends before the pipe is open waits in the pipe socket's write queue.
    viewer.pipe(pipe);
    pipe.pipe(viewer);
    pipe.once('connect', () => {
      this.#reachedPipe = true;
      onEvent({ type: 'viewer-connected', viewer: this.name });
    });
    viewer.on('error', (error) => this.#finish(error));
    pipe.on('error', (error) => this.#finish(error, !this.#reachedPipe));
    viewer.on('close', () => this.#finish());
    pipe.on('close', () => this.#finish());
  }

  /** Cuts the session off and waits until both sockets are closed. */
  async end(): Promise<void> {
    this.#finish();
    await this.ended;
  }

  /** `pipeFailed`: the pipe could not be opened (no VM screen there), rather than a session that ended. */
  #finish(error?: Error, pipeFailed = false): void {
    if (this.#finished) return;
    this.#finished = true;
    const closed = [this.#viewer, this.#pipe].map(
      (s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve()))),
    );
    this.#viewer.destroy();
    this.#pipe.destroy();
    if (pipeFailed && error) {
      this.onEvent({ type: 'pipe-unavailable', viewer: this.name, pipe: this.pipePath, error });
    } else {
      this.onEvent({
        type: 'viewer-closed',
        viewer: this.name,
        bytesToVm: this.#bytesToVm,
        bytesFromVm: this.#bytesFromVm,
        ...(error && { error }),
      });
    }
    this.#resolveFinished();
    void Promise.all(closed).then(() => this.#resolveEnded());
  }
}
