import type { Duplex } from 'node:stream';
import { encodeFrame, type Frame, FrameDecoder, PayloadReader, PayloadWriter } from './codec.js';
import { AgentConnectionClosedError, AgentProtocolError, AgentRequestError } from './errors.js';
import { FrameType, PROTOCOL_VERSION, ReadyFlag } from './protocol.js';

/** What the agent said about itself in READY. */
export interface AgentInfo {
  protocolVersion: number;
  /** The agent runs in the foreground (`--console`): SHUTDOWN stops the agent, not the guest. */
  consoleMode: boolean;
  /** The guest has a pseudo console (ConPTY). */
  pty: boolean;
  os: { major: number; minor: number; build: number };
  agentVersion: string;
  /** "DOMAIN\\user" of the guest's active console session, "" when nobody is logged on. */
  user: string;
  maxPayload: number;
  /** Flow-control credit per direction per stream. */
  window: number;
}

/** What a stream does with its frames; `onClose` runs once if the connection ends first. */
export interface StreamHandler {
  onFrame(frame: Frame): void;
  onClose(error: Error): void;
}

/** An ERROR frame's payload. */
export function parseError(payload: Buffer): AgentRequestError {
  const r = new PayloadReader(payload, 'ERROR');
  const code = r.u32();
  const win32 = r.u32();
  const message = r.str();
  r.done();
  return new AgentRequestError(code, win32, message);
}

function parseReady(payload: Buffer): AgentInfo {
  const r = new PayloadReader(payload, 'READY');
  const protocolVersion = r.u16();
  const flags = r.u32();
  const os = { major: r.u32(), minor: r.u32(), build: r.u32() };
  const agentVersion = r.str();
  const user = r.str();
  const maxPayload = r.u32();
  const window = r.u32();
  r.done();
  return {
    protocolVersion,
    consoleMode: (flags & ReadyFlag.consoleMode) !== 0,
    pty: (flags & ReadyFlag.pty) !== 0,
    os,
    agentVersion,
    user,
    maxPayload,
    window,
  };
}

export interface ConnectOptions {
  /** How long to wait for READY (default 10 s). */
  timeoutMs?: number;
  /** Named in the agent's log. */
  clientName?: string;
}

/**
 * One connection to a guest agent over any byte stream (the relay's stdio, a
 * socket, a pipe). It owns the framing, the stream ids and the connection's
 * fate: a protocol violation by the agent or the stream closing fails every
 * open stream with a typed error.
 */
export class AgentConnection {
  readonly #io: Duplex;
  readonly #decoder = new FrameDecoder();
  readonly #streams = new Map<number, StreamHandler>();
  #nextId = 1;
  #closed: Error | undefined;
  #info: AgentInfo | undefined;
  /** ERROR frames the agent sent on stream 0 (about frames it could not attribute to a stream). */
  readonly connectionErrors: AgentRequestError[] = [];

  private constructor(io: Duplex) {
    this.#io = io;
    io.on('data', (chunk: Buffer) => this.#receive(chunk));
    io.on('end', () => {
      try {
        this.#decoder.end();
        this.#fail(new AgentConnectionClosedError('the agent closed the connection'));
      } catch (error) {
        this.#fail(error as Error);
      }
    });
    io.on('close', () => this.#fail(new AgentConnectionClosedError('the stream closed')));
    io.on('error', (error) => this.#fail(new AgentConnectionClosedError(error.message)));
  }

  /** Sends HELLO and resolves with the connection once the agent is READY. */
  static async connect(io: Duplex, options: ConnectOptions = {}): Promise<AgentConnection> {
    const connection = new AgentConnection(io);
    const timeoutMs = options.timeoutMs ?? 10_000;
    try {
      connection.#info = await new Promise<AgentInfo>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new AgentConnectionClosedError(`no READY from the agent within ${timeoutMs} ms`)),
          timeoutMs,
        );
        connection.#streams.set(0, {
          onFrame: (frame) => {
            clearTimeout(timer);
            if (frame.type === FrameType.ready) resolve(parseReady(frame.payload));
            else if (frame.type === FrameType.error) reject(parseError(frame.payload));
            else reject(new AgentProtocolError(`frame type ${frame.type} before READY`));
          },
          onClose: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        const hello = new PayloadWriter()
          .u16(PROTOCOL_VERSION)
          .u16(PROTOCOL_VERSION)
          .str(options.clientName ?? 'hcs-sandbox');
        connection.send(FrameType.hello, 0, hello.build());
      });
    } catch (error) {
      connection.close();
      throw error;
    }
    connection.#streams.set(0, {
      onFrame: (frame) => {
        if (frame.type === FrameType.error) connection.connectionErrors.push(parseError(frame.payload));
      },
      onClose: () => {},
    });
    return connection;
  }

  get info(): AgentInfo {
    return this.#info!;
  }

  /** Set once the connection failed or closed: why. */
  get closedBecause(): Error | undefined {
    return this.#closed;
  }

  send(type: number, stream: number, payload?: Uint8Array): void {
    if (this.#closed) throw this.#closed;
    this.#io.write(encodeFrame(type, stream, payload));
  }

  /** A fresh stream id routed to `handler` until `closeStream`. */
  openStream(handler: StreamHandler): number {
    if (this.#closed) throw this.#closed;
    while (this.#streams.has(this.#nextId) || this.#nextId === 0) this.#nextId = (this.#nextId + 1) >>> 0;
    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0;
    this.#streams.set(id, handler);
    return id;
  }

  closeStream(id: number): void {
    if (id !== 0) this.#streams.delete(id);
  }

  /** Round trip through the agent (readiness and liveness). */
  ping(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.closeStream(id);
        reject(new AgentConnectionClosedError(`no PONG within ${timeoutMs} ms`));
      }, timeoutMs);
      const id = this.openStream({
        onFrame: () => {
          clearTimeout(timer);
          this.closeStream(id);
          resolve();
        },
        onClose: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.send(FrameType.ping, id);
    });
  }

  /** Ends the connection; the agent aborts whatever is still running for it. */
  close(): void {
    this.#fail(new AgentConnectionClosedError('closed by the client'));
    this.#io.end();
    this.#io.destroy();
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    let frames: Frame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#fail(error as Error);
      this.#io.destroy();
      return;
    }
    for (const frame of frames) {
      // Frames for a stream we already closed (a late WINDOW, output after a kill) are dropped.
      const handler = this.#streams.get(frame.stream);
      try {
        handler?.onFrame(frame);
      } catch (error) {
        this.#fail(error as Error);
        this.#io.destroy();
        return;
      }
    }
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    const handlers = [...this.#streams.values()];
    this.#streams.clear();
    for (const handler of handlers) handler.onClose(error);
  }
}
