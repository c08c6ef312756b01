import { completionCommand } from './completion.js';
import { imageCommand } from './image.js';
import { jobCommand } from './job.js';
import { maintenanceCommand } from './maintenance.js';
import { mcpCommand } from './mcp.js';
import { networkCommand } from './network.js';
import { rawCommand } from './raw.js';
import { sandboxCommitCommand } from './sandbox-commit.js';
import { sandboxDetachedCommand } from './sandbox-detached.js';
import { sandboxExecCommand } from './sandbox-exec.js';
import { sandboxFilesCommand } from './sandbox-files.js';
import { sandboxLifecycleCommand } from './sandbox-lifecycle.js';
import { sandboxReadCommand } from './sandbox-read.js';
import { sandboxRunCommand } from './sandbox-run.js';
import { sandboxStartCommand } from './sandbox-start.js';
import { sandboxStatsCommand } from './sandbox-stats.js';
import { serveCommand } from './serve.js';
import { systemsCommand } from './systems.js';
import { versionCommand } from './version.js';
import { viewCommand } from './view.js';
import { vmImageCommand } from './vm-image.js';

/** Every CLI command module. Add a new command here (one import, one entry). */
export const COMMANDS = [
  versionCommand,
  sandboxRunCommand,
  sandboxStartCommand,
  sandboxDetachedCommand,
  sandboxExecCommand,
  sandboxReadCommand,
  sandboxLifecycleCommand,
  sandboxFilesCommand,
  systemsCommand,
  rawCommand,
  imageCommand,
  vmImageCommand,
  jobCommand,
  networkCommand,
  maintenanceCommand,
  sandboxStatsCommand,
  sandboxCommitCommand,
  completionCommand,
  viewCommand,
  mcpCommand,
  serveCommand,
] as const;

/** The plan any command can produce. */
export type CommandPlan = Parameters<(typeof COMMANDS)[number]['run']>[0];
