import type { Io } from './command.js';
import { COMMANDS } from './commands/index.js';
import type { Plan } from './plan.js';
import { loadSdk } from './sdk.js';

export type { Io } from './command.js';

/** Runs a plan through its command module; returns the process exit code. */
export async function execute(plan: Plan, io: Io): Promise<number> {
  if (plan.kind === 'help') {
    io.out(plan.text);
    return 0;
  }
  const command = COMMANDS.find((c) => (c.kinds as readonly string[]).includes(plan.kind));
  if (!command) throw new Error(`no command runs plans of kind ${plan.kind}`);
  // A verb runs through the SDK, loaded here, not at startup (sdk.ts); `ls` loads less itself.
  if (!(command.withoutSdk as readonly string[] | undefined)?.includes(plan.kind)) await loadSdk();
  // The module's own run() narrows the plan to its kinds.
  return (command.run as (p: typeof plan, io: Io) => Promise<number>)(plan, io);
}
