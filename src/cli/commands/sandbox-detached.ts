import { appendFileSync, rmSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { commandInput, logFiles } from '../format.js';
import { sdk } from '../sdk.js';
import { writeExit } from './command-log.js';

export type SandboxDetachedPlan = { kind: 'sandbox-detached'; name: string; command: string[] };

/**
 * `__detached` (hidden): the background half of `run -d`, a host process of
 * this CLI started by `run -d` that runs the command with its output in the
 * sandbox's log file.
 */
export const sandboxDetachedCommand: CommandModule<SandboxDetachedPlan> = {
  verbs: ['__detached'],
  kinds: ['sandbox-detached'],
  register(program, accept) {
    program
      .command('__detached', { hidden: true })
      .argument('<sandbox>')
      .argument('<command...>')
      .action((name: string, command: string[]) => accept({ kind: 'sandbox-detached', name, command }));
  },
  async run(plan) {
    // Nobody reads our stdout: the log file is the output.
    const files = logFiles(plan.name);
    let exitCode = 1;
    try {
      const sandbox = await sdk().Sandbox.open(plan.name);
      try {
        const result = await sandbox.commands.run(commandInput(plan.command), {
          reject: false,
          onStdout: (s) => appendFileSync(files.log, s),
          onStderr: (s) => appendFileSync(files.log, s),
        });
        exitCode = result.exitCode;
      } finally {
        await sandbox.close();
      }
    } catch (error) {
      appendFileSync(files.log, `hcs-sandbox: ${(error as Error).message}\n`);
    }
    // Removed while its command ran (`rm -f`): leave no log behind it.
    const gone = await sdk()
      .Sandbox.open(plan.name)
      .then(
        (sb) => sb.close().then(() => false),
        (error: unknown) => error instanceof sdk().SandboxNotFoundError,
      );
    if (gone) {
      rmSync(files.log, { force: true });
      rmSync(files.exit, { force: true });
    } else writeExit(plan.name, exitCode);
    return exitCode;
  },
};
