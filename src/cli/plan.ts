import { Command, CommanderError } from 'commander';
import { UsageError } from './command.js';
import { COMMANDS, type CommandPlan } from './commands/index.js';

export { UsageError } from './command.js';

/** What the user asked for, as plain data: parsed here, executed in execute.ts. */
export type Plan = CommandPlan | { kind: 'help'; text: string };

/**
 * Parses argv (without the node and script entries) into a {@link Plan}. Pure:
 * runs nothing, prints nothing, so it is unit-tested on its own.
 */
export function parsePlan(argv: readonly string[]): Plan {
  let plan: Plan | undefined;
  let helpText = '';
  const program = new Command('hcs-sandbox')
    .description('Isolated Windows sandboxes through the Host Compute Service.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (helpText += s), writeErr: (s) => (helpText += s) })
    .showSuggestionAfterError(true);
  for (const command of COMMANDS) {
    command.register(program, (p: CommandPlan) => {
      plan = p;
    });
  }

  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)) {
        return { kind: 'help', text: helpText };
      }
      throw new UsageError(error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  return plan ?? { kind: 'help', text: program.helpInformation() };
}
