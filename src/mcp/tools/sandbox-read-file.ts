import { win32 } from 'node:path';
import { z } from 'zod';
import type { SandboxLike } from '../../sandbox/sandbox-host.js';
import { FileTooLargeError } from '../errors.js';
import { READ_FILE_BYTES } from '../limits.js';
import { defineTool } from '../tool.js';

const INSTEAD =
  'Read a part of it with sandbox_run, e.g. powershell -NoProfile -Command "Get-Content C:\\path -TotalCount 200".';

export const sandboxReadFile = defineTool({
  name: 'sandbox_read_file',
  title: 'Read a file in a sandbox',
  description:
    'Reads a file inside a sandbox. Returns its content as text (encoding "utf8", or "utf16le" for files ' +
    'with a UTF-16 byte order mark, as Windows tools often write) or, for bytes that are not text, as base64 ' +
    `(encoding "base64"). Files over ${READ_FILE_BYTES} bytes are refused (FILE_TOO_LARGE).`,
  input: {
    sandbox: z.string().min(1).describe('Name of the sandbox'),
    path: z.string().min(1).describe('Absolute path inside the sandbox, e.g. C:\\work\\notes.txt'),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, { session }) {
    return session.with(args.sandbox, async (sandbox) => {
      await refuseLarge(sandbox, args.path);
      const bytes = await sandbox.files.read(args.path, { encoding: 'bytes' });
      // It may have grown between the look and the read.
      if (bytes.length > READ_FILE_BYTES)
        throw new FileTooLargeError(args.path, bytes.length, READ_FILE_BYTES, INSTEAD);
      return { result: { path: args.path, size: bytes.length, ...decode(bytes) } };
    });
  },
});

/** Refuses a file too large before reading it (read() holds it all in memory). */
async function refuseLarge(sandbox: SandboxLike, path: string): Promise<void> {
  const folder = win32.dirname(path);
  const name = win32.basename(path).toLowerCase();
  if (!name || folder === path) return; // a drive root: read() says what it is
  const entry = (await sandbox.files.list(folder)).find((e) => e.name.toLowerCase() === name);
  if (entry?.type === 'file' && entry.size > READ_FILE_BYTES)
    throw new FileTooLargeError(path, entry.size, READ_FILE_BYTES, INSTEAD);
}

/** Text when the bytes are text (UTF-8, or UTF-16LE with its byte order mark), else base64. */
export function decode(bytes: Uint8Array): { encoding: 'utf8' | 'utf16le' | 'base64'; content: string } {
  if (bytes[0] === 0xff && bytes[1] === 0xfe && bytes.length % 2 === 0) {
    return { encoding: 'utf16le', content: new TextDecoder('utf-16le').decode(bytes) };
  }
  try {
    return { encoding: 'utf8', content: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { encoding: 'base64', content: Buffer.from(bytes).toString('base64') };
  }
}
