import type { AgentConnection } from './connection.js';
import { type Channel, FrameType } from './protocol.js';

/**
 * Outbound credit on one stream (docs/agent-protocol.md, "Flow control"): what
 * we may still send on CH_IN before the agent's next WINDOW frame.
 */
export class SendCredit {
  #available: number;
  #waiters: Array<() => void> = [];
  #failed: Error | undefined;

  constructor(initial: number) {
    this.#available = initial;
  }

  /** Resolves with 1..max bytes of credit once there is some. */
  async take(max: number): Promise<number> {
    while (this.#available === 0) {
      if (this.#failed) throw this.#failed;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#failed) throw this.#failed;
    const n = Math.min(max, this.#available);
    this.#available -= n;
    return n;
  }

  give(n: number): void {
    this.#available += n;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Wakes every waiter with `error` (the stream ended). */
  fail(error: Error): void {
    this.#failed ??= error;
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * Inbound credit on one stream: bytes received are given back to the agent
 * once the consumer took them, so the agent never has more than one window in
 * flight per channel and a slow reader slows the guest process down.
 */
export class ReceiveCredit {
  #owed = 0;
  #held = 0;

  constructor(
    private readonly connection: AgentConnection,
    private readonly stream: number,
    private readonly channel: typeof Channel.out | typeof Channel.err,
  ) {}

  /**
   * n bytes arrived. While the consumer keeps up they are granted back (batched,
   * 16 KiB at a time); when our buffer is full they are held until `drained`.
   */
  received(n: number, consumerFull: boolean): void {
    if (consumerFull) this.#held += n;
    else this.#owed += n;
    if (this.#owed >= 16 * 1024) this.#flush();
  }

  /** The consumer wants more: grant back everything received so far. */
  drained(): void {
    this.#owed += this.#held;
    this.#held = 0;
    if (this.#owed > 0) this.#flush();
  }

  #flush(): void {
    const payload = Buffer.alloc(5);
    payload.writeUInt8(this.channel, 0);
    payload.writeUInt32LE(this.#owed, 1);
    this.#owed = 0;
    if (!this.connection.closedBecause) this.connection.send(FrameType.window, this.stream, payload);
  }
}
