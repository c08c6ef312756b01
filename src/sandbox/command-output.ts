import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';

/** How a command's output comes back: UTF-8 text (the default) or the bytes as written. */
export type OutputEncoding = 'utf8' | 'buffer';

/** The output type for an encoding: `string` for `'utf8'`, `Buffer` for `'buffer'`. */
export type OutputOf<E extends OutputEncoding> = E extends 'buffer' ? Buffer : string;

/**
 * Collects one output stream for `wait()`. Text is decoded chunk by chunk
 * while the command still writes (a StringDecoder carries a character split
 * across chunks over to the next one), so nothing is left to do when the
 * command ends: joining and decoding 128 MB after the last byte cost more than
 * the pipe itself (measured under Wine, docs/performance.md). Bytes
 * (`'buffer'`) are kept as the chunks the pipe gave and joined once. Listens
 * for `data` rather than reading: a caller who also reads or pipes the stream
 * sees the same chunks (no copy), and a caller's backpressure (`pause()`)
 * holds both. `onChunk` gets each chunk as it arrives, as text or bytes.
 * Rejects when the stream errors or closes before its end.
 */
export async function collectOutput(
  stream: Readable | null,
  encoding: OutputEncoding,
  onChunk: ((chunk: string | Buffer) => void) | undefined,
): Promise<string | Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  let text = '';
  const decoder = encoding === 'utf8' ? new StringDecoder('utf8') : undefined;
  if (stream) {
    stream.on('data', (data: Buffer | string) => {
      // Strings only if the caller set an encoding on the stream itself.
      const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (!decoder) {
        chunks.push(chunk);
        length += chunk.length;
        onChunk?.(chunk);
        return;
      }
      const part = decoder.write(chunk);
      if (!part) return;
      text += part;
      onChunk?.(part);
    });
    await finished(stream, { writable: false });
  }
  if (decoder) {
    const rest = decoder.end();
    if (rest) {
      text += rest;
      onChunk?.(rest);
    }
    return text;
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
}

/** The last lines of some output, for an error message (reads only its tail). */
export function lastLines(output: string | Buffer, count: number): string {
  const text = typeof output === 'string' ? output : output.subarray(-4096).toString('utf8');
  return text.trim().split(/\r?\n/).slice(-count).join('\n');
}
