import type { McpTool } from '../tool.js';
import { sandboxCreate } from './sandbox-create.js';
import { sandboxList } from './sandbox-list.js';
import { sandboxListFiles } from './sandbox-list-files.js';
import { sandboxReadFile } from './sandbox-read-file.js';
import { sandboxRemove } from './sandbox-remove.js';
import { sandboxRun } from './sandbox-run.js';
import { sandboxWriteFile } from './sandbox-write-file.js';

/**
 * Every tool the server offers, in the order clients list them. A new tool
 * (the desktop tools for VM sandboxes: screenshot, click, type) is one module
 * and one entry here, with `applies` saying which sandboxes it works on.
 */
export const TOOLS: readonly McpTool[] = [
  sandboxCreate,
  sandboxList,
  sandboxRun,
  sandboxReadFile,
  sandboxWriteFile,
  sandboxListFiles,
  sandboxRemove,
];
