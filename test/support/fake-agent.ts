import { type Duplex, duplexPair } from 'node:stream';
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  PayloadReader,
  PayloadWriter,
  ReadyFlag,
} from '../../src/sandbox/agent/index.js';

/** What the fake does with one EXEC: its output and exit code, or nothing (it runs until KILL). */
export type FakeExecScript = (
  commandLine: string,
  flags: number,
) => { stdout?: string; exitCode: number } | 'hang' | { refuse: { code: number; message: string } };

/**
 * An in-process guest agent speaking docs/agent-protocol.md over a Duplex:
 * READY (or silence, to test readiness), EXEC with scripted output and exit,
 * KILL, SHUTDOWN. Enough for the VM driver's agent path; the real agent is
 * exercised under Wine.
 */
export class FakeAgent {
  /** Frame types received, in order (with the stream id). */
  readonly received: { type: number; stream: number; at: number }[] = [];
  readonly commandLines: string[] = [];
  /** Answer HELLO with READY (false: stay silent). */
  ready = true;
  consoleMode = true;
  script: FakeExecScript = () => ({ exitCode: 0 });
  /** Called when a frame arrives (e.g. to note the HCS calls made so far). */
  onFrame: ((frame: Frame) => void) | undefined;
  #nextPid = 100;

  /** A new connection: the client's end. */
  connect(): Duplex {
    const [client, agent] = duplexPair();
    const decoder = new FrameDecoder();
    const send = (type: number, stream: number, payload?: Buffer) =>
      agent.write(encodeFrame(type, stream, payload));
    agent.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        this.received.push({ type: frame.type, stream: frame.stream, at: this.received.length });
        this.onFrame?.(frame);
        this.#answer(frame, send);
      }
    });
    agent.on('error', () => {});
    return client;
  }

  #answer(frame: Frame, send: (type: number, stream: number, payload?: Buffer) => void): void {
    const w = () => new PayloadWriter();
    switch (frame.type) {
      case FrameType.hello:
        if (!this.ready) return;
        send(
          FrameType.ready,
          0,
          w()
            .u16(1)
            .u32(this.consoleMode ? ReadyFlag.consoleMode : 0)
            .u32(10)
            .u32(0)
            .u32(26100)
            .str('fake')
            .str('')
            .u32(1024 * 1024)
            .u32(1024 * 1024)
            .build(),
        );
        return;
      case FrameType.exec: {
        const r = new PayloadReader(frame.payload, 'EXEC');
        const flags = r.u32();
        r.u16();
        r.u16();
        r.str();
        const argv = Array.from({ length: r.u32() }, () => r.str());
        const commandLine = argv.join(' ');
        this.commandLines.push(commandLine);
        const outcome = this.script(commandLine, flags);
        if (typeof outcome === 'object' && 'refuse' in outcome) {
          const { code, message } = outcome.refuse;
          send(FrameType.error, frame.stream, w().u32(code).u32(0).str(message).build());
          return;
        }
        send(
          FrameType.started,
          frame.stream,
          w()
            .u32(this.#nextPid++)
            .build(),
        );
        if (outcome === 'hang') return;
        if (outcome.stdout) send(FrameType.stdout, frame.stream, Buffer.from(outcome.stdout));
        send(FrameType.exit, frame.stream, w().u32(outcome.exitCode).build());
        return;
      }
      case FrameType.kill:
        send(FrameType.exit, frame.stream, frame.payload);
        return;
      case FrameType.shutdown:
        send(FrameType.done, frame.stream, w().u64(0n).build());
        return;
    }
  }
}
