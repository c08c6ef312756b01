import { Readable, Writable } from 'node:stream';
import { PayloadReader, PayloadWriter } from './codec.js';
import type { AgentConnection } from './connection.js';
import { parseError } from './connection.js';
import { ReceiveCredit, SendCredit } from './credit.js';
import { AgentProtocolError } from './errors.js';
import { Channel, DATA_CHUNK_BYTES, ExecFlag, FrameType } from './protocol.js';

export interface AgentExecOptions {
  /** argv (quoted for Windows by the agent), or a command line passed verbatim. */
  command: readonly string[] | { commandLine: string };
  /** The guest working directory; default the agent's own. */
  cwd?: string;
  /** Variables added to (or, with `replaceEnv`, replacing) the base environment. */
  env?: Readonly<Record<string, string>>;
  replaceEnv?: boolean;
  /** Run in the active console session's user instead of SYSTEM. */
  interactive?: boolean;
  /** Attach a pseudo console; stdout carries the terminal's output and there is no stderr. */
  pty?: { cols: number; rows: number };
}

/** A process the agent started: streaming stdio, its pid, its exit code (unsigned 32-bit). */
export class AgentProcess {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable;
  /** The guest pid, once started; rejects with the agent's error if the process could not start. */
  readonly pid: Promise<number>;
  /** The exit code as the guest reported it: the raw 32 bits, e.g. 0xC0000005 = 3221225477. */
  readonly exitCode: Promise<number>;
  readonly #connection: AgentConnection;
  readonly #id: number;
  readonly #stdinCredit: SendCredit;

  constructor(connection: AgentConnection, options: AgentExecOptions) {
    this.#connection = connection;
    this.#stdinCredit = new SendCredit(connection.info.window);
    let resolvePid!: (pid: number) => void;
    let resolveExit!: (code: number) => void;
    let rejectBoth!: (error: Error) => void;
    this.pid = new Promise((resolve, reject) => {
      resolvePid = resolve;
      rejectBoth = (error) => {
        reject(error);
        rejectExit(error);
      };
    });
    let rejectExit!: (error: Error) => void;
    this.exitCode = new Promise((resolve, reject) => {
      resolveExit = resolve;
      rejectExit = reject;
    });
    // A caller awaiting only one of them must not see the other as an unhandled rejection.
    this.pid.catch(() => {});
    this.exitCode.catch(() => {});

    const outCredit: ReceiveCredit[] = [];
    const readable = (index: number) =>
      new Readable({
        highWaterMark: 256 * 1024,
        read: () => outCredit[index]?.drained(),
      });
    this.stdout = readable(0);
    this.stderr = readable(1);
    const push = (stream: Readable, credit: ReceiveCredit, data: Buffer) => {
      credit.received(data.length, !stream.push(data));
    };
    const finish = (error?: Error) => {
      connection.closeStream(this.#id);
      this.#stdinCredit.fail(error ?? new AgentProtocolError('stdin written after the process exited'));
      for (const s of [this.stdout, this.stderr]) {
        if (error) s.destroy(error);
        else s.push(null);
      }
    };
    this.#id = connection.openStream({
      onFrame: (frame) => {
        switch (frame.type) {
          case FrameType.started: {
            const r = new PayloadReader(frame.payload, 'STARTED');
            const pid = r.u32();
            r.done();
            resolvePid(pid);
            break;
          }
          case FrameType.stdout:
            push(this.stdout, outCredit[0]!, frame.payload);
            break;
          case FrameType.stderr:
            push(this.stderr, outCredit[1]!, frame.payload);
            break;
          case FrameType.window: {
            const r = new PayloadReader(frame.payload, 'WINDOW');
            const channel = r.u8();
            const n = r.u32();
            r.done();
            if (channel !== Channel.in)
              throw new AgentProtocolError(`WINDOW for channel ${channel} from the agent`);
            this.#stdinCredit.give(n);
            break;
          }
          case FrameType.exit: {
            const r = new PayloadReader(frame.payload, 'EXIT');
            const code = r.u32();
            r.done();
            finish();
            resolvePid(0); // no-op when STARTED came, as it always does first
            resolveExit(code);
            break;
          }
          case FrameType.error: {
            const error = parseError(frame.payload);
            finish(error);
            rejectBoth(error);
            break;
          }
          default:
            throw new AgentProtocolError(`frame type ${frame.type} on an exec stream`);
        }
      },
      onClose: (error) => {
        finish(error);
        rejectBoth(error);
      },
    });
    outCredit.push(
      new ReceiveCredit(connection, this.#id, Channel.out),
      new ReceiveCredit(connection, this.#id, Channel.err),
    );
    this.stdin = new Writable({
      highWaterMark: DATA_CHUNK_BYTES,
      write: (chunk: Buffer, _encoding, callback) => {
        this.#sendStdin(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        try {
          if (!connection.closedBecause) connection.send(FrameType.stdinEof, this.#id);
          callback();
        } catch (error) {
          callback(error as Error);
        }
      },
    });
    this.stdin.on('error', () => {}); // writes after exit fail quietly: the exit code says what happened
    connection.send(FrameType.exec, this.#id, execPayload(options));
  }

  /** Terminates the process and everything it started (its job object); `exitCode` then resolves with `code`. */
  kill(code = 1): void {
    if (this.#connection.closedBecause) return;
    this.#connection.send(FrameType.kill, this.#id, new PayloadWriter().u32(code).build());
  }

  resize(cols: number, rows: number): void {
    this.#connection.send(FrameType.resize, this.#id, new PayloadWriter().u16(cols).u16(rows).build());
  }

  async #sendStdin(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      const n = await this.#stdinCredit.take(Math.min(DATA_CHUNK_BYTES, chunk.length - at));
      this.#connection.send(FrameType.stdin, this.#id, chunk.subarray(at, at + n));
      at += n;
    }
  }
}

function execPayload(options: AgentExecOptions): Buffer {
  const raw = !Array.isArray(options.command);
  const argv = raw
    ? [(options.command as { commandLine: string }).commandLine]
    : (options.command as readonly string[]);
  let flags = raw ? ExecFlag.rawCommandLine : 0;
  if (options.interactive) flags |= ExecFlag.interactive;
  if (options.pty) flags |= ExecFlag.pty;
  if (options.replaceEnv) flags |= ExecFlag.envReplace;
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const w = new PayloadWriter()
    .u32(flags)
    .u16(options.pty?.cols ?? 0)
    .u16(options.pty?.rows ?? 0)
    .str(options.cwd ?? '')
    .u32(argv.length);
  for (const a of argv) w.str(a);
  w.u32(env.length);
  for (const e of env) w.str(e);
  return w.build();
}
