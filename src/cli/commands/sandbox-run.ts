import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  InvalidArgumentError,
  readWsbFile,
  Sandbox,
  type SandboxIsolation,
  SandboxNotFoundError,
  type SandboxOptions,
  wsbToSandboxOptions,
} from '../../index.js';
import { type CommandModule, collect, type Io, parsePositiveInt, UsageError } from '../command.js';
import {
  absoluteHostPath,
  commandInput,
  eachName,
  fileError,
  logFiles,
  parseEnv,
  parseVolume,
  stepReporter,
  type VolumeSpec,
} from '../format.js';
import { streamCommand } from './sandbox-exec.js';

/** What `create` and `run` share: how the sandbox is made. */
export interface SandboxSpec {
  image: string;
  name: string | undefined;
  isolation: 'process' | 'hyperv' | 'vm';
  memoryMB: number | undefined;
  cpus: number | undefined;
  volumes: VolumeSpec[];
  env: Record<string, string>;
  workingDir: string | undefined;
  /** `nat` (SDK default), `isolated`, `internal` or `none`; checked by the SDK. */
  network: string | undefined;
  /** `-p HOST:SANDBOX[/udp]`, parsed and checked by the SDK. */
  ports: string[];
  /** An existing network to join instead of the mode's default one. */
  networkName?: string | undefined;
  /** `--allow CIDR` for the isolated mode. */
  allow?: string[] | undefined;
  dns?: string[] | undefined;
  dnsSearch?: string[] | undefined;
  /** CPU cap, percent of the host. */
  cpuLimit?: number | undefined;
  /** No progress lines on stderr. */
  quiet: boolean;
}

export type SandboxRunPlan =
  | ({
      kind: 'sandbox-run';
      command: string[];
      rm: boolean;
      detach: boolean;
      interactive: boolean;
      tty: boolean;
    } & SandboxSpec)
  | ({ kind: 'sandbox-create' } & SandboxSpec)
  | { kind: 'sandbox-start'; names: string[]; quiet: boolean }
  | {
      kind: 'sandbox-start-wsb';
      path: string;
      isolation: SandboxIsolation | undefined;
      image: string | undefined;
      name: string | undefined;
      quiet: boolean;
    }
  | {
      kind: 'sandbox-detached';
      name: string;
      command: string[];
    };

const ISOLATIONS = ['process', 'hyperv', 'vm'] as const;

function isolationOf(value: string | undefined): SandboxIsolation | undefined {
  if (value === undefined) return undefined;
  if (!(ISOLATIONS as readonly string[]).includes(value))
    throw new UsageError(`--isolation expects process or hyperv, got "${value}"`);
  return value as SandboxIsolation;
}

interface SpecFlags {
  name?: string;
  isolation?: string;
  memory?: number;
  cpus?: number;
  volume: string[];
  env: string[];
  workdir?: string;
  persistent?: boolean;
  network?: string;
  publish: string[];
  networkName?: string;
  allow: string[];
  dns: string[];
  dnsSearch: string[];
  cpuLimit?: number;
  quiet: boolean;
}

function specFlags(command: Command): Command {
  return command
    .option('--name <name>', 'name the sandbox (default: a generated sb-xxxxxxxx)')
    .option('--isolation <isolation>', 'process (default) or hyperv')
    .option('--memory <MB>', 'memory limit in MB', parsePositiveInt)
    .option('--cpus <n>', 'processor count', parsePositiveInt)
    .option('-v, --volume <host:sandbox[:ro]>', 'map a host folder (repeatable)', collect, [])
    .option('-e, --env <K=V>', 'environment of every command (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory of every command (C:\\...)')
    .option('--network <mode>', 'nat (default), isolated, internal or none')
    .option(
      '-p, --publish <host:sandbox[/udp]>',
      'publish a sandbox port on the host (repeatable)',
      collect,
      [],
    )
    .option('--network-name <name>', 'join this existing network instead of the default one')
    .option('--allow <cidr>', 'with --network isolated: a range still reachable (repeatable)', collect, [])
    .option('--dns <ip>', 'DNS server (repeatable)', collect, [])
    .option('--dns-search <suffix>', 'DNS search suffix (repeatable)', collect, [])
    .option('--cpu-limit <pct>', 'CPU cap, percent of the host (1-100)', parseCpuLimit)
    .option('-q, --quiet', 'no progress lines on stderr', false);
}

function parseCpuLimit(value: string): number {
  const n = Number(value.replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 1 || n > 100)
    throw new UsageError(`--cpu-limit expects 1 to 100, got "${value}"`);
  return n;
}

const nonEmpty = (values: string[]): string[] | undefined => (values.length ? values : undefined);

function specOf(image: string, opts: SpecFlags): SandboxSpec {
  return {
    image,
    name: opts.name,
    isolation: isolationOf(opts.isolation) ?? 'process',
    memoryMB: opts.memory,
    cpus: opts.cpus,
    volumes: opts.volume.map(parseVolume),
    env: parseEnv(opts.env),
    workingDir: opts.workdir,
    network: opts.network,
    ports: opts.publish,
    networkName: opts.networkName,
    allow: nonEmpty(opts.allow),
    dns: nonEmpty(opts.dns),
    dnsSearch: nonEmpty(opts.dnsSearch),
    cpuLimit: opts.cpuLimit,
    quiet: opts.quiet,
  };
}

function sandboxOptions(spec: SandboxSpec, persistent: boolean, start: boolean): SandboxOptions {
  return {
    image: spec.image,
    isolation: spec.isolation,
    persistent,
    start,
    ...(spec.name !== undefined && { name: spec.name }),
    ...(spec.memoryMB !== undefined && { memoryMB: spec.memoryMB }),
    ...(spec.cpus !== undefined && { cpus: spec.cpus }),
    ...(spec.workingDir !== undefined && { workingDir: spec.workingDir }),
    ...(spec.network !== undefined && { network: spec.network as NonNullable<SandboxOptions['network']> }),
    ...(spec.ports.length > 0 && { ports: spec.ports }),
    ...(spec.networkName !== undefined && { networkName: spec.networkName }),
    ...(spec.allow !== undefined && { allow: spec.allow }),
    ...((spec.dns !== undefined || spec.dnsSearch !== undefined) && {
      dns: { ...(spec.dns && { servers: spec.dns }), ...(spec.dnsSearch && { search: spec.dnsSearch }) },
    }),
    ...(spec.cpuLimit !== undefined && { cpuLimit: spec.cpuLimit }),
    env: spec.env,
    mappedFolders: spec.volumes.map((v) => ({ ...v, hostPath: absoluteHostPath(v.hostPath) })),
  };
}

/**
 * Creates the sandbox, then (with `start`) starts it, reporting both steps; a
 * sandbox this call created is removed again if it cannot start.
 */
async function createWithProgress(io: Io, options: SandboxOptions, quiet: boolean): Promise<Sandbox> {
  const progress = stepReporter(io, { tty: Boolean(process.stderr.isTTY), quiet }, options.name);
  try {
    const sandbox = await Sandbox.create({ ...options, start: false }, { onProgress: progress.onProgress });
    if (options.start === false) return sandbox;
    progress.step(`starting ${sandbox.name}`);
    try {
      await sandbox.start();
    } catch (error) {
      await sandbox.remove().catch(() => undefined);
      throw error;
    }
    return sandbox;
  } finally {
    progress.stop();
  }
}

/** Starts a fresh log for `name` (a previous sandbox of that name may have left one). */
function freshLog(name: string): string {
  const files = logFiles(name);
  mkdirSync(files.dir, { recursive: true });
  rmSync(files.exit, { force: true });
  writeFileSync(files.log, '');
  return files.log;
}

function writeExit(name: string, exitCode: number): void {
  writeFileSync(
    logFiles(name).exit,
    `${JSON.stringify({ exitCode, finishedAt: new Date().toISOString() })}\n`,
  );
}

/**
 * `run -d`: a detached host process of this CLI (`__detached`) opens the
 * sandbox, runs the command and writes its output to the log file, so the
 * command outlives this process and `logs` can show it.
 */
function launchDetached(name: string, command: readonly string[]): void {
  const script = process.argv[1];
  if (!script) throw new Error('cannot find the hcs-sandbox script to start the background command');
  const child = spawn(process.execPath, [...process.execArgv, script, '__detached', name, '--', ...command], {
    detached: true,
    stdio: 'ignore',
    windowsHide: true,
  });
  child.unref();
}

export const sandboxRunCommand: CommandModule<SandboxRunPlan> = {
  kinds: ['sandbox-run', 'sandbox-create', 'sandbox-start', 'sandbox-start-wsb', 'sandbox-detached'],
  register(program, accept) {
    specFlags(
      program
        .command('run')
        .description(
          "create and start a sandbox, run a command in it with its output streamed; exits with the command's exit code",
        )
        .argument('<image>', 'image reference, e.g. mcr.microsoft.com/windows/nanoserver:ltsc2022')
        .argument('<command...>', 'the command (after --); one argument is a whole command line'),
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
    program
      .command('start')
      .description('start created or stopped sandboxes, or a Windows Sandbox configuration (.wsb)')
      .argument('<sandbox...>', 'sandbox names, or one CONFIG.wsb file')
      .option('--isolation <isolation>', 'with a .wsb: process or hyperv (vm is not available yet)')
      .option('--image <ref>', 'with a .wsb: the image to run it in')
      .option('--name <name>', 'with a .wsb: name the sandbox')
      .option('-q, --quiet', 'no progress lines on stderr', false)
      .action(
        (targets: string[], opts: { isolation?: string; image?: string; name?: string; quiet: boolean }) => {
          const wsb = targets.filter((t) => /\.wsb$/i.test(t));
          if (wsb.length === 0) {
            for (const flag of ['isolation', 'image', 'name'] as const) {
              if (opts[flag] !== undefined)
                throw new UsageError(`--${flag} is only for starting a .wsb file`);
            }
            accept({ kind: 'sandbox-start', names: targets, quiet: opts.quiet });
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
            quiet: opts.quiet,
          });
        },
      );
    program
      .command('__detached', { hidden: true })
      .argument('<sandbox>')
      .argument('<command...>')
      .action((name: string, command: string[]) => accept({ kind: 'sandbox-detached', name, command }));
  },
  async run(plan, io) {
    switch (plan.kind) {
      case 'sandbox-create': {
        const sandbox = await createWithProgress(io, sandboxOptions(plan, true, false), plan.quiet);
        await sandbox.close();
        io.out(`${sandbox.name}\n`);
        return 0;
      }
      case 'sandbox-run': {
        const sandbox = await createWithProgress(io, sandboxOptions(plan, !plan.rm, true), plan.quiet);
        if (plan.detach) {
          try {
            freshLog(sandbox.name);
            launchDetached(sandbox.name, plan.command);
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
      case 'sandbox-start':
        return eachName(io, plan.names, async (name) => {
          const sandbox = await Sandbox.open(name);
          const progress = stepReporter(io, { tty: Boolean(process.stderr.isTTY), quiet: plan.quiet }, name);
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
      case 'sandbox-detached': {
        // The background half of `run -d`: nobody reads our stdout, the log file is the output.
        const files = logFiles(plan.name);
        let exitCode = 1;
        try {
          const sandbox = await Sandbox.open(plan.name);
          try {
            const result = await sandbox.commands.run(commandInput(plan.command), {
              reject: false,
              onStdout: (s) => appendFileSync(files.log, s),
              onStderr: (s) => appendFileSync(files.log, s),
            });
            exitCode = result.exitCode;
          } finally {
            await sandbox.close();
          }
        } catch (error) {
          appendFileSync(files.log, `hcs-sandbox: ${(error as Error).message}\n`);
        }
        // Removed while its command ran (`rm -f`): leave no log behind it.
        const gone = await Sandbox.open(plan.name).then(
          (sb) => sb.close().then(() => false),
          (error: unknown) => error instanceof SandboxNotFoundError,
        );
        if (gone) {
          rmSync(files.log, { force: true });
          rmSync(files.exit, { force: true });
        } else writeExit(plan.name, exitCode);
        return exitCode;
      }
    }
  },
};

async function startWsb(
  plan: Extract<SandboxRunPlan, { kind: 'sandbox-start-wsb' }>,
  io: Io,
): Promise<number> {
  const config = await readWsbFile(plan.path).catch((error: unknown) => {
    throw fileError(error, plan.path);
  });
  if (plan.isolation === undefined || plan.isolation === 'vm') {
    throw new InvalidArgumentError(
      'isolation',
      '--isolation process or --isolation hyperv (with --image REF)',
      plan.isolation ?? 'vm',
      "a .wsb file runs with Windows Sandbox-style 'vm' isolation by default, and that is not available yet",
    );
  }
  if (plan.image === undefined) {
    throw new UsageError(`--image REF is needed to run a .wsb file with ${plan.isolation} isolation`);
  }
  const { options, warnings } = wsbToSandboxOptions(config, { isolation: plan.isolation });
  for (const warning of warnings) {
    io.err(`warning: ${warning.fileName}:${warning.line}:${warning.column}: ${warning.message}\n`);
  }
  const sandbox = await createWithProgress(
    io,
    {
      image: plan.image,
      isolation: plan.isolation,
      persistent: true,
      ...(plan.name !== undefined && { name: plan.name }),
      ...(options.memoryMB !== undefined && { memoryMB: options.memoryMB }),
      mappedFolders: options.mappedFolders,
    },
    plan.quiet,
  );
  try {
    io.out(`${sandbox.name}\n`);
    if (options.logonCommand === undefined) return 0;
    const log = freshLog(sandbox.name);
    const exitCode = await streamCommand(io, sandbox, [options.logonCommand], { log });
    writeExit(sandbox.name, exitCode);
    if (exitCode !== 0) io.err(`hcs-sandbox: the logon command exited with ${exitCode}\n`);
    return exitCode;
  } finally {
    await sandbox.close();
  }
}
