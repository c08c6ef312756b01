import { type CommandModule, UsageError } from '../command.js';
import { freshLog, writeExit } from './command-log.js';
import { createWithProgress } from './sandbox-create.js';
import { streamCommand } from './sandbox-exec.js';
import { type SandboxSpec, type SpecFlags, sandboxOptions, specFlags, specOf } from './sandbox-spec.js';

export type SandboxRunPlan =
  | ({
      kind: 'sandbox-run';
      command: string[];
      rm: boolean;
      detach: boolean;
      interactive: boolean;
      tty: boolean;
    } & SandboxSpec)
  | ({ kind: 'sandbox-create' } & SandboxSpec);

/**
 * `run -d`: a detached host process of this CLI (`__detached`) opens the
 * sandbox, runs the command and writes its output to the log file, so the
 * command outlives this process and `logs` can show it. node:child_process is
 * loaded here, not at import: every verb's module is, and only this one path
 * starts a process (issue 16, cold start).
 */
async function launchDetached(name: string, command: readonly string[]): Promise<void> {
  const script = process.argv[1];
  if (!script) throw new Error('cannot find the hcs-sandbox script to start the background command');
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, script, '__detached', name, '--', ...command], {
    detached: true,
    stdio: 'ignore',
    windowsHide: true,
  });
  child.unref();
}

/** `run` and `create`: make a sandbox from flags; `run` also runs its main command. */
export const sandboxRunCommand: CommandModule<SandboxRunPlan> = {
  verbs: ['run', 'create'],
  kinds: ['sandbox-run', 'sandbox-create'],
  register(program, accept) {
    specFlags(
      program
        .command('run')
        .description(
          "create and start a sandbox, run a command in it with its output streamed; exits with the command's exit code",
        )
        .argument('<image>', 'image reference, e.g. mcr.microsoft.com/windows/nanoserver:ltsc2022')
        .argument(
          '[command...]',
          'the command (after --); one argument is a whole command line (none with --isolation vm)',
        ),
    )
      .option('--rm', 'remove the sandbox when the command exits (it also dies with this process)', false)
      .option('-d, --detach', 'run the command in the background, print the sandbox name', false)
      .option(
        '-i, --interactive',
        'pass stdin to the command (live with -t, else read to its end first)',
        false,
      )
      .option('-t, --tty', 'run under a pseudo console (stdout and stderr merge)', false)
      .option('--persistent', 'keep the sandbox after the command (the default without --rm)')
      .action(
        (
          image: string,
          command: string[],
          opts: SpecFlags & { rm: boolean; detach: boolean; interactive: boolean; tty: boolean },
        ) => {
          if (opts.rm && opts.persistent) throw new UsageError('--rm and --persistent contradict each other');
          if (opts.rm && opts.detach) throw new UsageError('--rm cannot be combined with --detach');
          if (opts.detach && (opts.interactive || opts.tty))
            throw new UsageError('-i and -t are for a command in the foreground, not with --detach');
          // A VM sandbox runs no command until the guest agent: run starts it and prints its name.
          if (opts.isolation === 'vm') {
            if (command.length > 0)
              throw new UsageError(
                "a vm sandbox runs no command yet (commands arrive with hcs-sandbox's guest agent): " +
                  'leave the command out, and use `hcs-sandbox view NAME` for its screen',
              );
            if (opts.rm) throw new UsageError('--rm needs a command to wait for; a vm sandbox runs none yet');
          } else if (command.length === 0) {
            throw new UsageError('run needs a command after the image (or use create)');
          }
          accept({
            kind: 'sandbox-run',
            command,
            rm: opts.rm,
            detach: opts.detach,
            interactive: opts.interactive,
            tty: opts.tty,
            ...specOf(image, opts),
          });
        },
      );
    specFlags(
      program
        .command('create')
        .description('create a sandbox without starting it; prints its name')
        .argument('<image>', 'image reference'),
    )
      .option('--persistent', 'accepted for symmetry with run: created sandboxes are always kept')
      .action((image: string, opts: SpecFlags) => accept({ kind: 'sandbox-create', ...specOf(image, opts) }));
  },
  async run(plan, io) {
    switch (plan.kind) {
      case 'sandbox-create': {
        const sandbox = await createWithProgress(io, sandboxOptions(plan, true, false), plan);
        await sandbox.close();
        io.out(`${sandbox.name}\n`);
        return 0;
      }
      case 'sandbox-run': {
        const sandbox = await createWithProgress(io, sandboxOptions(plan, !plan.rm, true), plan);
        if (plan.command.length === 0) {
          await sandbox.close();
          io.out(`${sandbox.name}\n`);
          return 0;
        }
        if (plan.detach) {
          try {
            freshLog(sandbox.name);
            await launchDetached(sandbox.name, plan.command);
          } finally {
            await sandbox.close();
          }
          io.out(`${sandbox.name}\n`);
          return 0;
        }
        let exitCode = 1;
        try {
          const log = plan.rm ? undefined : freshLog(sandbox.name);
          exitCode = await streamCommand(io, sandbox, plan.command, {
            interactive: plan.interactive,
            tty: plan.tty,
            ...(log !== undefined && { log }),
          });
          if (log) writeExit(sandbox.name, exitCode);
        } finally {
          // Like a container whose main process ended: removed (--rm) or stopped, files kept.
          if (plan.rm) await sandbox.remove();
          else await sandbox.stop();
          await sandbox.close();
        }
        return exitCode;
      }
    }
  },
};
