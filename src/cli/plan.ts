import { Command, CommanderError } from 'commander';
import { UsageError } from './command.js';
import { COMMANDS, type CommandPlan } from './commands/index.js';
import { arrangeHelp } from './help.js';
import { packageVersion } from './package-version.js';
import { loadSdk, SdkNotLoaded } from './sdk.js';

export { UsageError } from './command.js';

/** What the user asked for, as plain data: parsed here, executed in execute.ts. */
export type Plan = CommandPlan | { kind: 'help'; text: string };

/** Flags of the whole program, read before the verb's own parsing (main.ts's error printing needs them). */
export interface GlobalFlags {
  /** `--json` anywhere before `--`: errors print as JSON too. */
  json: boolean;
  /** `--debug`: an unexpected error prints its stack. */
  debug: boolean;
  /** `-H, --host URL`: the verb goes to a remote `hcs-sandbox serve` (main.ts also reads HCS_SANDBOX_HOST). */
  host?: string;
  /** `--token-file F`: the remote server's token. */
  tokenFile?: string;
}

/** The value of `--name V`, `--name=V` (or `-x V`) among `own`, the last one given. */
function flagValueOf(own: readonly string[], names: readonly string[]): string | undefined {
  let value: string | undefined;
  own.forEach((arg, i) => {
    for (const name of names) {
      if (arg === name && i + 1 < own.length) value = own[i + 1];
      else if (name.startsWith('--') && arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
    }
  });
  return value;
}

/** The program's own flags among `argv` (not the command's after `--`). */
export function globalFlags(argv: readonly string[]): GlobalFlags {
  const end = argv.indexOf('--');
  const own = end < 0 ? argv : argv.slice(0, end);
  const host = flagValueOf(own, ['--host', '-H']);
  const tokenFile = flagValueOf(own, ['--token-file']);
  return {
    json: own.includes('--json'),
    debug: own.includes('--debug'),
    ...(host !== undefined && { host }),
    ...(tokenFile !== undefined && { tokenFile }),
  };
}

/** Program options that take a value: the token after them is not the verb. */
const VALUE_OPTIONS = new Set(['-H', '--host', '--token-file']);

/** The verb argv names (`ls` in `hcs-sandbox -H URL ls -a`), if any: the first operand before `--`. */
export function verbNamed(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') return undefined;
    if (VALUE_OPTIONS.has(token)) i++;
    else if (!token.startsWith('-')) return token;
  }
  return undefined;
}

/**
 * The command modules to register for `argv`: none for `--version` alone, the
 * one module that owns the verb it names, or every module for no verb, an
 * unknown one, `help VERB` and `completion` (the top-level help and the
 * completion script list them all; a mistyped verb needs them all for the
 * "did you mean" suggestion).
 */
export function modulesFor(argv: readonly string[]): readonly (typeof COMMANDS)[number][] {
  const verb = verbNamed(argv);
  // `--version` alone is the program's own option: no verb's syntax is read.
  const help = argv.includes('-h') || argv.includes('--help');
  if (verb === undefined && !help && (argv.includes('-V') || argv.includes('--version'))) return [];
  const owner = verb === undefined ? undefined : COMMANDS.find((command) => command.verbs.includes(verb));
  return owner && !owner.readsEveryVerb ? [owner] : COMMANDS;
}

/**
 * The commander program with the `modules`' verbs registered (every verb by
 * default); `accept` receives the parsed plan.
 */
export function buildProgram(
  accept: (plan: CommandPlan) => void,
  write: (text: string) => void,
  modules: readonly (typeof COMMANDS)[number][] = COMMANDS,
): Command {
  const program = new Command('hcs-sandbox')
    .description('Isolated Windows sandboxes through the Host Compute Service.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'print the stack of an unexpected error')
    // Read by main.ts (globalFlags) before parsing; declared here for help and so the parser accepts them.
    .option('-H, --host <url>', 'drive a remote `hcs-sandbox serve` (or HCS_SANDBOX_HOST)')
    .option('--token-file <file>', "the remote server's token, from a file (or HCS_SANDBOX_TOKEN[_FILE])")
    .helpOption('-h, --help', 'print help')
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: write })
    .showSuggestionAfterError(true);
  for (const command of modules) command.register(program, accept);
  program.addHelpCommand(
    program
      .createCommand('help')
      .argument('[verb]', 'the verb to explain')
      .description('print help for a verb')
      .helpOption(false)
      .helpGroup('Host:'),
  );
  arrangeHelp(program);
  return program;
}

/** `image pull` for `hcs-sandbox image pull x --bogus`: the verbs argv names, as far as they exist. */
function verbOf(program: Command, argv: readonly string[]): string | undefined {
  const path: string[] = [];
  let command = program;
  for (const token of argv) {
    if (token === '--') break;
    if (token.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === token || c.aliases().includes(token));
    if (!sub) break;
    path.push(sub.name());
    command = sub;
  }
  return path.length ? path.join(' ') : undefined;
}

/**
 * Parses argv (without the node and script entries) into a {@link Plan}. Pure:
 * runs nothing, prints nothing, so it is unit-tested on its own. A UsageError
 * names the verb (`error.verb`) so the hint can point to its own help.
 */
export function parsePlan(argv: readonly string[], modules?: readonly (typeof COMMANDS)[number][]): Plan {
  let plan: Plan | undefined;
  let helpText = '';
  const end = argv.indexOf('--');
  // --debug is read by main.ts (globalFlags); it may stand after the verb too.
  const args = [...argv.slice(0, end < 0 ? argv.length : end).filter((a) => a !== '--debug')];
  if (end >= 0) args.push(...argv.slice(end));
  const program = buildProgram(
    (p) => {
      plan = p;
    },
    (s) => {
      helpText += s;
    },
    modules ?? modulesFor(args),
  );
  try {
    program.parse(args, { from: 'user' });
  } catch (error) {
    const usage = usageError(error);
    if (usage === undefined) return { kind: 'help', text: helpText };
    usage.verb ??= verbOf(program, args);
    throw usage;
  }
  return plan ?? { kind: 'help', text: program.helpInformation() };
}

/** The UsageError a parse failure means, or undefined for help and version (printed, exit 0). */
function usageError(error: unknown): UsageError | undefined {
  if (error instanceof UsageError) return error;
  if (!(error instanceof CommanderError)) throw error;
  if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code))
    return undefined;
  return new UsageError(error.message.replace(/^error: /, ''));
}

/**
 * {@link parsePlan} for main.ts: a flag parser that needs the SDK (sdk.ts)
 * makes the first attempt throw SdkNotLoaded; the SDK is loaded then and argv
 * parsed again (parsing is pure), so `--help` and `ls` never load it to parse.
 */
export async function readPlan(argv: readonly string[]): Promise<Plan> {
  try {
    return parsePlan(argv);
  } catch (error) {
    if (!(error instanceof SdkNotLoaded)) throw error;
    await loadSdk();
    return parsePlan(argv);
  }
}
