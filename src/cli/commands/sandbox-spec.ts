import type { Command } from 'commander';
import { SANDBOX_ISOLATIONS, Sandbox, type SandboxIsolation, type SandboxOptions } from '../../index.js';
import { collect, type Io, parsePositiveInt, UsageError } from '../command.js';
import { absoluteHostPath, parseEnv, parseVolume, stepReporter, type VolumeSpec } from '../format.js';

/**
 * How `run`, `create` and `start x.wsb` make a sandbox: the shared flags, the
 * plan fields they parse into, the SDK options those become, and the create
 * (then start) with progress on stderr.
 */

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

export function isolationOf(value: string | undefined): SandboxIsolation | undefined {
  if (value === undefined) return undefined;
  if (!(SANDBOX_ISOLATIONS as readonly string[]).includes(value))
    throw new UsageError(`--isolation expects ${SANDBOX_ISOLATIONS.join(', ')}, got "${value}"`);
  return value as SandboxIsolation;
}

export interface SpecFlags {
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

export function specFlags(command: Command): Command {
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

export function specOf(image: string, opts: SpecFlags): SandboxSpec {
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

export function sandboxOptions(spec: SandboxSpec, persistent: boolean, start: boolean): SandboxOptions {
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
export async function createWithProgress(io: Io, options: SandboxOptions, quiet: boolean): Promise<Sandbox> {
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
