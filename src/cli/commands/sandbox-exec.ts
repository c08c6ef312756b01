import { appendFileSync } from 'node:fs';
import type { SandboxLike } from '../../index.js';
import { type CommandModule, collect, type Io } from '../command.js';
import { commandInput, parseEnv } from '../format.js';
import { sdk } from '../sdk.js';

export type SandboxExecPlan = {
  kind: 'sandbox-exec';
  name: string;
  command: string[];
  env: Record<string, string>;
  cwd: string | undefined;
  user: string | undefined;
  interactive: boolean;
  tty: boolean;
};

export interface StreamOptions {
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** Pass this process's stdin: live with `tty`, else read to its end first. */
  interactive?: boolean;
  /** Run under a pseudo console sized like this terminal (stdout and stderr merge). */
  tty?: boolean;
  /** Also append the output to this file. */
  log?: string;
  /** In the signed-in user's desktop session (a VM's logon command). */
  desktop?: boolean;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Runs a command in `sandbox` with its stdout and stderr streamed to ours as
 * they arrive; returns its exit code (130 when Ctrl+C killed it).
 */
export async function streamCommand(
  io: Io,
  sandbox: Pick<SandboxLike, 'commands'>,
  command: readonly string[],
  options: StreamOptions = {},
): Promise<number> {
  const { log } = options;
  const tty = options.tty ?? false;
  const live = tty && (options.interactive ?? false);
  const stdin = options.interactive && !tty ? await readStdin() : undefined;
  const tee = (write: (s: string) => void) => (chunk: string) => {
    write(chunk);
    if (log) appendFileSync(log, chunk);
  };
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const rawMode = live && process.stdin.isTTY;
  try {
    const handle = await sandbox.commands.spawn(commandInput(command), {
      signal: controller.signal,
      ...(options.env && Object.keys(options.env).length > 0 && { env: options.env }),
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(options.user !== undefined && { user: options.user }),
      ...(options.desktop && { desktop: true }),
      ...(stdin !== undefined && { stdin }),
      ...(tty && { tty: true, cols: process.stdout.columns || 80, rows: process.stdout.rows || 25 }),
      onStdout: tee((s) => io.out(s)),
      onStderr: tee((s) => io.err(s)),
    });
    const onResize = () =>
      void handle.resize(process.stdout.columns || 80, process.stdout.rows || 25).catch(() => undefined);
    if (live && handle.stdin) {
      // Keys go to the pseudo console as typed (Ctrl+C included) until the command exits.
      if (rawMode) process.stdin.setRawMode(true);
      process.stdin.pipe(handle.stdin);
      if (process.stdout.isTTY) process.stdout.on('resize', onResize);
    } else if (tty) {
      handle.stdin?.end();
    }
    try {
      const result = await handle.wait();
      return result.isCanceled ? 130 : result.exitCode;
    } finally {
      if (live) {
        process.stdout.off('resize', onResize);
        process.stdin.unpipe();
        process.stdin.pause();
      }
    }
  } finally {
    if (rawMode) process.stdin.setRawMode(false);
    process.off('SIGINT', onSigint);
  }
}

export const sandboxExecCommand: CommandModule<SandboxExecPlan> = {
  verbs: ['exec'],
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
      .option(
        '-i, --interactive',
        'pass stdin to the command (live with -t, else read to its end first)',
        false,
      )
      .option('-t, --tty', 'run under a pseudo console (stdout and stderr merge)', false)
      .action(
        (
          name: string,
          command: string[],
          opts: { env: string[]; workdir?: string; user?: string; interactive: boolean; tty: boolean },
        ) =>
          accept({
            kind: 'sandbox-exec',
            name,
            command,
            env: parseEnv(opts.env),
            cwd: opts.workdir,
            user: opts.user,
            interactive: opts.interactive,
            tty: opts.tty,
          }),
      );
  },
  async run(plan, io) {
    return execIn(io, await sdk().Sandbox.open(plan.name), plan);
  },
};

/** `exec`'s command in `sandbox` (this machine's or a remote host's), which it then lets go of. */
export async function execIn(
  io: Io,
  sandbox: Pick<SandboxLike, 'commands' | 'close'>,
  plan: SandboxExecPlan,
): Promise<number> {
  try {
    return await streamCommand(io, sandbox, plan.command, {
      env: plan.env,
      interactive: plan.interactive,
      tty: plan.tty,
      ...(plan.cwd !== undefined && { cwd: plan.cwd }),
      ...(plan.user !== undefined && { user: plan.user }),
    });
  } finally {
    await sandbox.close();
  }
}
