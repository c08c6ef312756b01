import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';

/** How a command's output comes back: UTF-8 text (the default) or the bytes as written. */
export type OutputEncoding = 'utf8' | 'buffer';

/** The output type for an encoding: `string` for `'utf8'`, `Buffer` for `'buffer'`. */
export type OutputOf<E extends OutputEncoding> = E extends 'buffer' ? Buffer : string;

/**
 * Text is decoded in pieces of about this size. A pipe gives 64 KiB chunks;
 * decoding each into its own string costs about 1.5x decoding 1 MiB pieces,
 * as V8's scavenger copies every small string the result's rope keeps alive
 * (twice, before promoting it) while strings of 1 MiB go straight to its
 * large-object space and are never copied (docs/performance.md).
 */
const DECODE_PIECE_BYTES = 1024 * 1024;

/**
 * One output stream of a command, collected for `wait()`.
 *
 * Listens for `data` rather than reading: a caller who also reads or pipes the
 * stream sees the same chunks (no copy), and a caller's backpressure holds
 * both. The chunks are kept as Buffers and turned into the result once, by
 * `value()`, except that text nobody else reads is decoded while the command
 * still writes (in pieces, above), so that little is left to do at its end;
 * text a caller streams is not decoded at all unless `value()` is asked for.
 * `onChunk` gets each chunk as it arrives, as text (a character split across
 * chunks arrives whole, in the later one) or bytes.
 */
export class CollectedOutput {
  readonly #decoder: StringDecoder | undefined;
  readonly #onChunk: ((chunk: string | Buffer) => void) | undefined;
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #text = '';
  #value: string | Buffer | undefined;
  /** A caller also read the stream (a `data` listener or reader besides ours) while it flowed. */
  #shared = false;
  /** False: chunks go to `onChunk` only and the result's output is empty (`keepOutput: false`). */
  readonly #keep: boolean;

  constructor(
    encoding: OutputEncoding,
    onChunk: ((chunk: string | Buffer) => void) | undefined,
    keep = true,
  ) {
    this.#decoder = encoding === 'utf8' ? new StringDecoder('utf8') : undefined;
    this.#onChunk = onChunk;
    this.#keep = keep;
  }

  /** Whether `value()` is ready without decoding or joining anything. */
  get settled(): boolean {
    return this.#value !== undefined;
  }

  /** Collects `stream` to its end; rejects when it errors or closes before its end. */
  async collect(stream: Readable | null): Promise<this> {
    if (stream) {
      stream.on('data', (data: Buffer | string) => {
        // Strings only if the caller set an encoding on the stream itself.
        if (!this.#shared)
          this.#shared = stream.listenerCount('data') > 1 || stream.listenerCount('readable') > 0;
        this.#add(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      });
      await finished(stream, { writable: false });
    }
    if (this.#decoder && this.#onChunk) {
      const rest = this.#decoder.end();
      this.#text += rest;
      if (rest) this.#onChunk(rest);
      this.#value = this.#text;
    } else if (!this.#shared) {
      this.value();
    }
    return this;
  }

  /** The whole output as the result carries it, built on first call. */
  value(): string | Buffer {
    if (this.#value !== undefined) return this.#value;
    if (this.#decoder) {
      this.#decodePending(true);
      this.#value = this.#text + this.#decoder.end();
    } else {
      this.#value = Buffer.concat(this.#pending, this.#pendingLength);
    }
    this.#pending = [];
    this.#pendingLength = 0;
    return this.#value;
  }

  #add(chunk: Buffer): void {
    if (this.#decoder && this.#onChunk) {
      const part = this.#decoder.write(chunk);
      if (this.#keep) this.#text += part;
      if (part) this.#onChunk(part);
      return;
    }
    this.#onChunk?.(chunk);
    if (!this.#keep) return;
    this.#pending.push(chunk);
    this.#pendingLength += chunk.length;
    if (this.#decoder && !this.#shared && this.#pendingLength >= DECODE_PIECE_BYTES)
      this.#decodePending(false);
  }

  /** Decodes the kept chunks in order, in pieces of about DECODE_PIECE_BYTES (all of them when `all`). */
  #decodePending(all: boolean): void {
    const decoder = this.#decoder as StringDecoder;
    let piece: Buffer[] = [];
    let length = 0;
    for (const chunk of this.#pending) {
      piece.push(chunk);
      length += chunk.length;
      if (length >= DECODE_PIECE_BYTES) {
        this.#text += decoder.write(piece.length === 1 ? (piece[0] as Buffer) : Buffer.concat(piece, length));
        piece = [];
        length = 0;
      }
    }
    if (all && length > 0) {
      this.#text += decoder.write(piece.length === 1 ? (piece[0] as Buffer) : Buffer.concat(piece, length));
      piece = [];
      length = 0;
    }
    this.#pending = piece;
    this.#pendingLength = length;
  }
}

/**
 * Sets `target[key]` to the output's value: at once when it is ready, else on
 * first read (a caller who streamed the output and never reads it from the
 * result pays nothing for joining or decoding it).
 */
export function defineOutput(target: object, key: 'stdout' | 'stderr', output: CollectedOutput): void {
  if (output.settled) {
    Object.defineProperty(target, key, {
      value: output.value(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return;
  }
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get(this: object) {
      const value = output.value();
      Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true });
      return value;
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true });
    },
  });
}

/** The last lines of some output, for an error message (reads only its tail). */
export function lastLines(output: string | Buffer, count: number): string {
  const text = typeof output === 'string' ? output : output.subarray(-4096).toString('utf8');
  return text.trim().split(/\r?\n/).slice(-count).join('\n');
}
