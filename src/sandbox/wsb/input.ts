import { open } from 'node:fs/promises';
import { WsbError } from '../errors.js';

/**
 * The bytes or text of a `.wsb` file to text, within the size limit: a file
 * is read no further than one byte past it, text is measured before parsing.
 */

/** A `.wsb` file larger than this is refused before parsing. */
export const WSB_MAX_FILE_BYTES = 1024 * 1024;

/**
 * The file's bytes, reading at most one byte more than the limit, so a path
 * naming an endless device or a huge file is refused without reading it all.
 */
export async function readBounded(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  const buffer = Buffer.alloc(WSB_MAX_FILE_BYTES + 1);
  let length = 0;
  try {
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
  } finally {
    await file.close();
  }
  if (length > WSB_MAX_FILE_BYTES)
    throw tooLarge(path, `the file is longer than ${WSB_MAX_FILE_BYTES} bytes`);
  return buffer.subarray(0, length);
}

function tooLarge(fileName: string, problem: string): WsbError {
  return new WsbError({
    fileName,
    line: 1,
    column: 1,
    problem,
    allowed: `at most ${WSB_MAX_FILE_BYTES} bytes`,
  });
}

/** Text gets the same limit as a file, counted in UTF-8 bytes (what the text takes saved as UTF-8). */
export function checkTextSize(text: string, fileName: string): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > WSB_MAX_FILE_BYTES) throw tooLarge(fileName, `the text is ${bytes} bytes long in UTF-8`);
  return text;
}

export function decode(bytes: Uint8Array, fileName: string): string {
  if (bytes.length > WSB_MAX_FILE_BYTES) throw tooLarge(fileName, `the file is ${bytes.length} bytes long`);
  let encoding = 'utf-8';
  let start = 0;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    encoding = 'utf-16le';
    start = 2;
  } else if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    encoding = 'utf-16be';
    start = 2;
  } else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    start = 3;
  }
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(start));
  } catch (cause) {
    throw new WsbError(
      {
        fileName,
        line: 1,
        column: 1,
        problem: `the file is not valid ${encoding.toUpperCase()}`,
        allowed: 'UTF-8, or UTF-16 with a byte order mark',
      },
      { cause },
    );
  }
}
