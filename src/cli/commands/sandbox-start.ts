import type { SandboxIsolation } from '../../index.js';
import { fileError } from '../cli-error.js';
import { type CommandModule, type Io, UsageError } from '../command.js';
import { eachName } from '../format.js';
import { stepReporter } from '../progress.js';
import { sdk } from '../sdk.js';
import { freshLog, writeExit } from './command-log.js';
import { createWithProgress } from './sandbox-create.js';
import { streamCommand } from './sandbox-exec.js';
import { isolationOf } from './sandbox-spec.js';

export type SandboxStartPlan =
  | { kind: 'sandbox-start'; names: string[]; quiet: boolean; verbose: boolean }
  | {
      kind: 'sandbox-start-wsb';
      path: string;
      isolation: SandboxIsolation | undefined;
      image: string | undefined;
      name: string | undefined;
      quiet: boolean;
      verbose: boolean;
    };

/** `start`: created or stopped sandboxes by name, or a new one from a Windows sdk().Sandbox `.wsb` file. */
export const sandboxStartCommand: CommandModule<SandboxStartPlan> = {
  verbs: ['start'],
  kinds: ['sandbox-start', 'sandbox-start-wsb'],
  register(program, accept) {
    program
      .command('start')
      .description('start created or stopped sandboxes, or a Windows sdk().Sandbox configuration (.wsb)')
      .argument('<sandbox...>', 'sandbox names, or one CONFIG.wsb file')
      .option('--isolation <isolation>', 'with a .wsb: vm (default), process or hyperv')
      .option('--image <ref>', 'with a .wsb: the image to run it in (a VM image with vm isolation)')
      .option('--name <name>', 'with a .wsb: name the sandbox')
      .option('-q, --quiet', 'no progress on stderr')
      .option('--verbose', "also print the create's internal steps (with a .wsb) on stderr")
      .action(
        (
          targets: string[],
          opts: { isolation?: string; image?: string; name?: string; quiet?: boolean; verbose?: boolean },
        ) => {
          const quiet = opts.quiet === true;
          const verbose = opts.verbose === true;
          const wsb = targets.filter((t) => /\.wsb$/i.test(t));
          if (wsb.length === 0) {
            for (const flag of ['isolation', 'image', 'name'] as const) {
              if (opts[flag] !== undefined)
                throw new UsageError(`--${flag} is only for starting a .wsb file`);
            }
            accept({ kind: 'sandbox-start', names: targets, quiet, verbose });
            return;
          }
          if (targets.length > 1)
            throw new UsageError('start takes one .wsb file, and no sandbox names with it');
          accept({
            kind: 'sandbox-start-wsb',
            path: wsb[0] as string,
            isolation: isolationOf(opts.isolation),
            image: opts.image,
            name: opts.name,
            quiet,
            verbose,
          });
        },
      );
  },
  async run(plan, io) {
    switch (plan.kind) {
      case 'sandbox-start':
        return eachName(io, plan.names, async (name) => {
          const sandbox = await sdk().Sandbox.open(name);
          const progress = stepReporter(
            io,
            { tty: Boolean(process.stderr.isTTY), quiet: plan.quiet, verbose: plan.verbose },
            name,
          );
          try {
            progress.step(`starting ${name}`);
            await sandbox.start();
          } finally {
            progress.stop();
            await sandbox.close();
          }
          io.out(`${name}\n`);
        });
      case 'sandbox-start-wsb':
        return startWsb(plan, io);
    }
  },
};

async function startWsb(
  plan: Extract<SandboxStartPlan, { kind: 'sandbox-start-wsb' }>,
  io: Io,
): Promise<number> {
  const config = await sdk()
    .readWsbFile(plan.path)
    .catch(async (error: unknown) => {
      throw await fileError(error, plan.path);
    });
  // A .wsb runs in a VM by default, as Windows Sandbox runs it: on a VM image
  // (--image, or the one ready image there is; the SDK says which to build otherwise).
  const isolation = plan.isolation ?? 'vm';
  if (isolation !== 'vm' && plan.image === undefined) {
    throw new UsageError(`--image REF is needed to run a .wsb file with ${isolation} isolation`);
  }
  const { options, warnings } = sdk().wsbToSandboxOptions(config, { isolation });
  for (const warning of warnings) {
    io.err(`warning: ${warning.fileName}:${warning.line}:${warning.column}: ${warning.message}\n`);
  }
  const vm = isolation === 'vm';
  const sandbox = await createWithProgress(
    io,
    {
      ...(plan.image !== undefined && { image: plan.image }),
      isolation,
      persistent: true,
      ...(plan.name !== undefined && { name: plan.name }),
      ...(options.memoryMB !== undefined && { memoryMB: options.memoryMB }),
      // A VM takes the file's networking; its folders were warned of above.
      ...(vm ? { network: options.network } : { mappedFolders: options.mappedFolders }),
    },
    plan,
  );
  try {
    io.out(`${sandbox.name}\n`);
    if (options.logonCommand === undefined) return 0;
    const log = freshLog(sandbox.name);
    // In a VM, in the signed-in user's session once autologon is done, as Windows Sandbox runs it.
    const exitCode = await streamCommand(io, sandbox, [options.logonCommand], { log, desktop: vm });
    writeExit(sandbox.name, exitCode);
    if (exitCode !== 0) io.err(`hcs-sandbox: the logon command exited with ${exitCode}\n`);
    return exitCode;
  } finally {
    await sandbox.close();
  }
}
