import { readFile } from 'node:fs/promises';
import { type CommandModule, parsePositiveInt } from '../command.js';
import { sdk } from '../sdk.js';

export type RawRunPlan = {
  kind: 'raw-run';
  documentPath: string;
  id: string | undefined;
  command: string[];
  timeoutMs: number | undefined;
};

export const rawCommand: CommandModule<RawRunPlan> = {
  verbs: ['raw'],
  kinds: ['raw-run'],
  register(program, accept) {
    const raw = program.command('raw').description('expert commands over raw HCS documents');
    raw
      .command('run')
      .description(
        'create a compute system from an HCS JSON document, start it, run one command, print its output, remove it',
      )
      .argument('<document>', 'path to a sdk().hcs.ComputeSystem JSON document')
      .argument('<command...>', 'the command line to run inside (after --)')
      .option('--id <id>', 'compute system id (default: a generated one)')
      .option('--timeout <ms>', 'give up after this many milliseconds', parsePositiveInt)
      .action((document: string, command: string[], opts: { id?: string; timeout?: number }) =>
        accept({ kind: 'raw-run', documentPath: document, id: opts.id, command, timeoutMs: opts.timeout }),
      );
  },
  async run(plan, io) {
    const document = JSON.parse(await readFile(plan.documentPath, 'utf8')) as object;
    const id = plan.id ?? `hcs-sandbox-raw-${crypto.randomUUID()}`;
    const callOptions = plan.timeoutMs ? { timeoutMs: plan.timeoutMs } : {};
    const system = await sdk().hcs.ComputeSystem.create(id, document, callOptions);
    try {
      await system.start(callOptions);
      const proc = await sdk().hcs.HcsProcess.create(
        system,
        { CommandLine: plan.command.join(' '), CreateStdOutPipe: true, CreateStdErrPipe: true },
        callOptions,
      );
      const pump = async (stream: NodeJS.ReadableStream | null, write: (s: string) => void) => {
        if (stream) for await (const chunk of stream) write(chunk.toString());
      };
      const [, , exit] = await Promise.all([
        pump(proc.stdout, (s) => io.out(s)),
        pump(proc.stderr, (s) => io.err(s)),
        proc.wait(callOptions),
      ]);
      await proc.close();
      return exit.exitCode;
    } finally {
      await system[Symbol.asyncDispose]();
    }
  },
};
