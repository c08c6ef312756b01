import { z } from 'zod';
import { LIST_FILES_ENTRIES } from '../limits.js';
import { defineTool } from '../tool.js';

export const sandboxListFiles = defineTool({
  name: 'sandbox_list_files',
  title: 'List a folder in a sandbox',
  description:
    'Lists the entries of a folder inside a sandbox: name, type (file, directory, link, other), size in bytes ' +
    `and last modified time. Links are reported, never followed. At most ${LIST_FILES_ENTRIES} entries ` +
    '(sorted by name; truncated: true when there are more).',
  input: {
    sandbox: z.string().min(1).describe('Name of the sandbox'),
    path: z.string().min(1).describe('Absolute folder path inside the sandbox, e.g. C:\\work'),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, { session }) {
    const entries = await session.with(args.sandbox, (sandbox) => sandbox.files.list(args.path));
    const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      result: {
        path: args.path,
        entries: sorted.slice(0, LIST_FILES_ENTRIES).map((e) => ({
          name: e.name,
          type: e.type,
          size: e.size,
          modified: e.modified?.toISOString() ?? null,
        })),
        total: entries.length,
        truncated: entries.length > LIST_FILES_ENTRIES,
      },
    };
  },
});
