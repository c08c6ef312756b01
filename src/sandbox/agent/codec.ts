import { AgentProtocolError } from './errors.js';
import { FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES } from './protocol.js';

/** One frame of the agent protocol (docs/agent-protocol.md, "Frames"). */
export interface Frame {
  type: number;
  stream: number;
  payload: Buffer;
}

const U32_MAX = 0xffff_ffff;

/** A frame's bytes. Refuses what the agent would refuse: a payload above the maximum, ids outside u32. */
export function encodeFrame(type: number, stream: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new AgentProtocolError(`frame type ${type}`);
  if (!Number.isInteger(stream) || stream < 0 || stream > U32_MAX)
    throw new AgentProtocolError(`stream id ${stream} outside 0..2^32-1`);
  if (payload.length > MAX_PAYLOAD_BYTES)
    throw new AgentProtocolError(`payload of ${payload.length} bytes above ${MAX_PAYLOAD_BYTES}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt8(type, 4);
  out.writeUInt32LE(stream, 5);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Splits a byte stream into frames. It holds at most one partial frame
 * (header + maximum payload), so a hostile or broken peer cannot make it grow
 * without bound; a length above the maximum is an AgentProtocolError at once,
 * and the decoder stays failed (the stream has lost its framing).
 */
export class FrameDecoder {
  readonly #maxPayload: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: AgentProtocolError | undefined;

  constructor(maxPayload = MAX_PAYLOAD_BYTES) {
    this.#maxPayload = maxPayload;
  }

  /** Bytes received that do not yet make a whole frame. */
  get pendingBytes(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    if (chunk.length) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#buffered += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.#buffered >= FRAME_HEADER_BYTES) {
      const header = this.#peek(FRAME_HEADER_BYTES);
      const length = header.readUInt32LE(0);
      if (length > this.#maxPayload) {
        this.#failed = new AgentProtocolError(`frame length ${length} above the maximum ${this.#maxPayload}`);
        this.#chunks = [];
        this.#buffered = 0;
        throw this.#failed;
      }
      if (this.#buffered < FRAME_HEADER_BYTES + length) break;
      const whole = this.#take(FRAME_HEADER_BYTES + length);
      frames.push({
        type: whole.readUInt8(4),
        stream: whole.readUInt32LE(5),
        payload: whole.subarray(FRAME_HEADER_BYTES),
      });
    }
    return frames;
  }

  /** The stream ended: a partial frame left over means it was cut off. */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (this.#buffered > 0)
      throw new AgentProtocolError(`stream ended inside a frame (${this.#buffered} bytes)`);
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined.subarray(0, n);
  }

  #take(n: number): Buffer {
    const first = this.#peek(n);
    const copy = Buffer.from(first); // detached from the chunk it came from
    let left = n;
    while (left > 0) {
      const head = this.#chunks[0]!;
      if (head.length <= left) {
        this.#chunks.shift();
        left -= head.length;
      } else {
        this.#chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    this.#buffered -= n;
    return copy;
  }
}

/** Reads one payload's fields; any read past the end, or leftover bytes at `done()`, is an AgentProtocolError. */
export class PayloadReader {
  #pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  #need(n: number): number {
    if (this.buf.length - this.#pos < n)
      throw new AgentProtocolError(`${this.what}: payload of ${this.buf.length} bytes is too short`);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(): number {
    return this.buf.readUInt8(this.#need(1));
  }
  u16(): number {
    return this.buf.readUInt16LE(this.#need(2));
  }
  u32(): number {
    return this.buf.readUInt32LE(this.#need(4));
  }
  u64(): bigint {
    return this.buf.readBigUInt64LE(this.#need(8));
  }
  /** A u32-length-prefixed UTF-8 string; invalid UTF-8 is refused, not replaced. */
  str(): string {
    const n = this.u32();
    const at = this.#need(n);
    const bytes = this.buf.subarray(at, at + n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new AgentProtocolError(`${this.what}: a string is not UTF-8`);
    }
  }
  rest(): Buffer {
    return this.buf.subarray(this.#need(this.buf.length - this.#pos));
  }
  done(): void {
    if (this.#pos !== this.buf.length)
      throw new AgentProtocolError(`${this.what}: ${this.buf.length - this.#pos} unexpected trailing bytes`);
  }
}

/** Builds one payload (little-endian; strings as u32 length + UTF-8). */
export class PayloadWriter {
  #parts: Buffer[] = [];

  u8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    return this.#add(b);
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.#add(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.#add(b);
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return this.#add(b);
  }
  str(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    return this.u32(bytes.length).#add(bytes);
  }
  bytes(b: Uint8Array): this {
    return this.#add(Buffer.from(b));
  }
  build(): Buffer {
    return Buffer.concat(this.#parts);
  }
  #add(b: Buffer): this {
    this.#parts.push(b);
    return this;
  }
}
