import { Command, CommanderError } from 'commander';

/** What the user asked for, as plain data: parsed here, executed in execute.ts. */
export type Plan =
  | { kind: 'version'; json: boolean }
  | { kind: 'systems'; json: boolean; owners: string[]; ids: string[] }
  | {
      kind: 'raw-run';
      documentPath: string;
      id: string | undefined;
      command: string[];
      timeoutMs: number | undefined;
    }
  | { kind: 'help'; text: string };

/** Bad command-line usage: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

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

  program
    .command('version')
    .description('print versions and what this host supports')
    .option('--json', 'machine-readable output', false)
    .action((opts: { json: boolean }) => {
      plan = { kind: 'version', json: opts.json };
    });

  program
    .command('systems')
    .description("list every HCS compute system on the host, ours and others' (like hcsdiag list)")
    .option('--json', 'machine-readable output', false)
    .option('--owner <owner>', 'only systems with this Owner (repeatable)', collect, [])
    .option('--id <id>', 'only this id (repeatable)', collect, [])
    .action((opts: { json: boolean; owner: string[]; id: string[] }) => {
      plan = { kind: 'systems', json: opts.json, owners: opts.owner, ids: opts.id };
    });

  const raw = program.command('raw').description('expert commands over raw HCS documents');
  raw
    .command('run')
    .description(
      'create a compute system from an HCS JSON document, start it, run one command, print its output, remove it',
    )
    .argument('<document>', 'path to a ComputeSystem JSON document')
    .argument('<command...>', 'the command line to run inside (after --)')
    .option('--id <id>', 'compute system id (default: a generated one)')
    .option('--timeout <ms>', 'give up after this many milliseconds', parsePositiveInt)
    .action((document: string, command: string[], opts: { id?: string; timeout?: number }) => {
      plan = { kind: 'raw-run', documentPath: document, id: opts.id, command, timeoutMs: opts.timeout };
    });

  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.help' ||
        error.code === 'commander.version'
      ) {
        return { kind: 'help', text: helpText };
      }
      throw new UsageError(error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  if (!plan) return { kind: 'help', text: program.helpInformation() };
  return plan;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`expected a positive whole number of milliseconds, got "${value}"`);
  return n;
}
