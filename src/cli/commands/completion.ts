import type { Command } from 'commander';
import { type CommandModule, UsageError } from '../command.js';
import { COMPLETION_SHELLS, type CompletionShell, completionScript } from '../completion.js';

export type CompletionPlan = { kind: 'completion'; shell: CompletionShell; script: string };

const parseShell = (value: string): CompletionShell => {
  if (!(COMPLETION_SHELLS as readonly string[]).includes(value))
    throw new UsageError(`completion: expected ${COMPLETION_SHELLS.join(' or ')}, got "${value}"`);
  return value as CompletionShell;
};

/** `completion bash|powershell`: the script, generated from the program the parser runs. */
export const completionCommand: CommandModule<CompletionPlan> = {
  verbs: ['completion'],
  readsEveryVerb: true,
  kinds: ['completion'],
  register(program, accept) {
    program
      .command('completion')
      .description('print a shell completion script for the verbs and flags')
      .argument('<shell>', `${COMPLETION_SHELLS.join(' or ')}`)
      .action((shell: string, _opts: unknown, command: Command) => {
        const chosen = parseShell(shell);
        accept({
          kind: 'completion',
          shell: chosen,
          script: completionScript(command.parent ?? command, chosen),
        });
      });
  },
  async run(plan, io) {
    io.out(plan.script);
    return 0;
  },
};
