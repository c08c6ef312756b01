import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';

/** How a command's output comes back: UTF-8 text (the default) or the bytes as written. */
export type OutputEncoding = 'utf8' | 'buffer';

/** The output type for an encoding: `string` for `'utf8'`, `Buffer` for `'buffer'`. */
export type OutputOf<E extends OutputEncoding> = E extends 'buffer' ? Buffer : string;

/**
 * Collects one output stream for `wait()`, as the Buffer chunks it yields,
 * and decodes once at the end (one `Buffer.concat`, so a character split
 * across chunks decodes whole). Listens for `data` rather than reading: a
 * caller who also reads or pipes the stream sees the same chunks (no copy),
 * and a caller's backpressure (`pause()`) holds both. `onChunk` gets each
 * chunk as it arrives: the Buffer itself, or its text through a
 * StringDecoder that carries split characters over to the next chunk.
 * Rejects when the stream errors or closes before its end.
 */
export async function collectOutput(
  stream: Readable | null,
  encoding: OutputEncoding,
  onChunk: ((chunk: string | Buffer) => void) | undefined,
): Promise<string | Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  if (stream) {
    const decoder = onChunk && encoding === 'utf8' ? new StringDecoder('utf8') : undefined;
    stream.on('data', (data: Buffer | string) => {
      // Strings only if the caller set an encoding on the stream itself.
      const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      chunks.push(chunk);
      length += chunk.length;
      if (!onChunk) return;
      if (!decoder) onChunk(chunk);
      else {
        const text = decoder.write(chunk);
        if (text) onChunk(text);
      }
    });
    await finished(stream, { writable: false });
    const rest = decoder?.end();
    if (rest) onChunk?.(rest);
  }
  const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
  return encoding === 'buffer' ? bytes : bytes.toString('utf8');
}

/** The last lines of some output, for an error message (reads only its tail). */
export function lastLines(output: string | Buffer, count: number): string {
  const text = typeof output === 'string' ? output : output.subarray(-4096).toString('utf8');
  return text.trim().split(/\r?\n/).slice(-count).join('\n');
}
