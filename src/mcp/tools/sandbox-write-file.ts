import { z } from 'zod';
import { FileTooLargeError } from '../errors.js';
import { WRITE_FILE_BYTES } from '../limits.js';
import { defineTool } from '../tool.js';

// Base64 of WRITE_FILE_BYTES, the longest content the schema lets through.
const MAX_CONTENT_CHARS = Math.ceil(WRITE_FILE_BYTES / 3) * 4;

export const sandboxWriteFile = defineTool({
  name: 'sandbox_write_file',
  title: 'Write a file in a sandbox',
  description:
    'Writes a file inside a sandbox, replacing it if it exists. content is text written as UTF-8, or base64 ' +
    `bytes with encoding: "base64". At most ${WRITE_FILE_BYTES} bytes per call.`,
  input: {
    sandbox: z.string().min(1).describe('Name of the sandbox'),
    path: z.string().min(1).describe('Absolute path inside the sandbox, e.g. C:\\work\\script.ps1'),
    content: z.string().max(MAX_CONTENT_CHARS).describe('The file’s content'),
    encoding: z.enum(['utf8', 'base64']).optional().describe('How content is written (default utf8)'),
  },
  annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { session }) {
    const data =
      args.encoding === 'base64' ? Buffer.from(args.content, 'base64') : Buffer.from(args.content, 'utf8');
    if (data.length > WRITE_FILE_BYTES)
      throw new FileTooLargeError(
        args.path,
        data.length,
        WRITE_FILE_BYTES,
        'Write it in parts (several files), or fetch it from inside the sandbox with sandbox_run.',
      );
    await session.with(args.sandbox, (sandbox) => sandbox.files.write(args.path, data));
    return { result: { path: args.path, bytes: data.length } };
  },
});
