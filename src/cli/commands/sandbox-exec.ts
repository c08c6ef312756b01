import { Sandbox } from '../../index.js';
import { type CommandModule, collect } from '../command.js';
import { commandInput, parseEnv } from '../format.js';

export type SandboxExecPlan = {
  kind: 'sandbox-exec';
  name: string;
  command: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  user: string | undefined;
  interactive: boolean;
};

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const sandboxExecCommand: CommandModule<SandboxExecPlan> = {
  kinds: ['sandbox-exec'],
  register(program, accept) {
    program
      .command('exec')
      .description(
        "run a command in a running sandbox, its output streamed back; exits with the command's exit code",
      )
      .argument('<sandbox>', 'sandbox name')
      .argument('<command...>', 'the command (after --); one argument is a whole command line')
      .option('-e, --env <K=V>', 'environment variable (repeatable)', collect, [])
      .option('-w, --workdir <dir>', 'working directory inside the sandbox (C:\\...)')
      .option('-u, --user <user>', 'account inside the sandbox (ContainerUser, ContainerAdministrator, ...)')
      .option('-i, --interactive', "pass this process's stdin to the command (read to its end first)", false)
      .action(
        (
          name: string,
          command: string[],
          opts: { env: string[]; workdir?: string; user?: string; interactive: boolean },
        ) =>
          accept({
            kind: 'sandbox-exec',
            name,
            command,
            env: parseEnv(opts.env),
            cwd: opts.workdir,
            user: opts.user,
            interactive: opts.interactive,
          }),
      );
  },
  async run(plan, io) {
    const stdin = plan.interactive ? await readStdin() : undefined;
    const sandbox = await Sandbox.open(plan.name);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await sandbox.commands.run(commandInput(plan.command), {
        reject: false,
        signal: controller.signal,
        ...(Object.keys(plan.env).length > 0 && { env: plan.env }),
        ...(plan.cwd !== undefined && { cwd: plan.cwd }),
        ...(plan.user !== undefined && { user: plan.user }),
        ...(stdin !== undefined && { stdin }),
        onStdout: (s) => io.out(s),
        onStderr: (s) => io.err(s),
      });
      return result.isCanceled ? 130 : result.exitCode;
    } finally {
      process.off('SIGINT', onSigint);
      await sandbox.close();
    }
  },
};
