import { type Command, Help, type Option } from 'commander';

/**
 * How `--help` reads: verbs grouped by what they act on, and no default
 * shown for a flag that is off (`false`) or empty (`[]`) unless given, which
 * commander would print as noise.
 */

/** Help groups in the order they print; a verb not listed is under "Host:". */
const GROUPS: readonly [string, readonly string[]][] = [
  [
    'Sandboxes:',
    [
      'run',
      'create',
      'start',
      'exec',
      'ls',
      'inspect',
      'logs',
      'stop',
      'kill',
      'pause',
      'resume',
      'rm',
      'cp',
      'share',
      'commit',
      'stats',
      'top',
      'update',
      'ip',
      'view',
    ],
  ],
  ['Images:', ['image', 'vm']],
  ['Networks:', ['network']],
  ['Jobs:', ['job']],
  ['Host:', []],
];
const HOST = GROUPS.length - 1;

function groupOf(name: string): number {
  const found = GROUPS.findIndex(([, names]) => names.includes(name));
  return found < 0 ? HOST : found;
}

class CliHelp extends Help {
  override optionDescription(option: Option): string {
    const value: unknown = option.defaultValue;
    if (value !== false && !(Array.isArray(value) && value.length === 0))
      return super.optionDescription(option);
    // Described without the default, then restored: parsing still sees it.
    option.defaultValue = undefined;
    try {
      return super.optionDescription(option);
    } finally {
      option.defaultValue = value;
    }
  }
}

function useCliHelp(command: Command): void {
  command.createHelp = () => Object.assign(new CliHelp(), command.configureHelp());
  for (const sub of command.commands) useCliHelp(sub);
}

/** Groups the program's verbs (in GROUPS order) and gives every command the quieter help. */
export function arrangeHelp(program: Command): void {
  const commands = program.commands as Command[];
  commands.sort((a, b) => groupOf(a.name()) - groupOf(b.name()));
  for (const command of commands) command.helpGroup(GROUPS[groupOf(command.name())]?.[0] ?? 'Host:');
  useCliHelp(program);
  program.addHelpText(
    'after',
    "\nRun 'hcs-sandbox VERB --help' for a verb's arguments and flags (e.g. hcs-sandbox run --help).\n",
  );
}
