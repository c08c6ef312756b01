import { z } from 'zod';
import { defineTool } from '../tool.js';

export const sandboxRemove = defineTool({
  name: 'sandbox_remove',
  title: 'Remove a sandbox',
  description:
    'Stops the sandbox if it runs and deletes it with everything written inside it. This cannot be undone. ' +
    'Sandboxes this session created are removed anyway when it ends (unless persistent).',
  input: { sandbox: z.string().min(1).describe('Name of the sandbox') },
  annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, { session }) {
    await session.remove(args.sandbox);
    return { result: { removed: args.sandbox } };
  },
});
