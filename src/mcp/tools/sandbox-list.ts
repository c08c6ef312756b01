import { defineTool } from '../tool.js';
import { describeSandbox } from './sandbox-info.js';

export const sandboxList = defineTool({
  name: 'sandbox_list',
  title: 'List sandboxes',
  description:
    'Lists the sandboxes on the host, with name, status (running, stopped...), isolation, image, and whether ' +
    'this session removes it when it ends (removedWithSession). Commands and files need a running sandbox.',
  input: {},
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(_args, { host, session }) {
    const sandboxes = await host.list();
    return { result: { sandboxes: sandboxes.map((info) => describeSandbox(info, session)) } };
  },
});
