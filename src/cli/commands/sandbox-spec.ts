import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { SandboxIsolation, SandboxOptions } from '../../index.js';
import { collect, flagValue, parsePositiveInt, UsageError } from '../command.js';
import { absoluteHostPath, parseEnv, parseVolume, type VolumeSpec } from '../format.js';
import { sdk } from '../sdk.js';
import {
  cpusOption,
  parseByteFlag,
  parseCpuPercent,
  parseCpus,
  parseMemoryMB,
  parseStorageOpt,
} from '../units.js';

/**
 * How `run` and `create` make a sandbox: the shared flags (docker's names
 * where the SDK has the option), the plan fields they parse into, and the SDK
 * options those become. The create itself is in sandbox-create.ts.
 */

/** When `run`/`create` pull the image (docker's `--pull`). */
export const PULL_POLICIES = ['missing', 'always', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** What `create` and `run` share: how the sandbox is made. */
export interface SandboxSpec {
  image: string;
  name: string | undefined;
  isolation: 'process' | 'hyperv' | 'vm';
  memoryMB: number | undefined;
  /** Processors; a fraction becomes a CPU cap (cpuLimit) when the options are made. */
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
  ioMaxIops?: number | undefined;
  /** Bytes per second. */
  ioMaxBandwidth?: number | undefined;
  hostname?: string | undefined;
  /** The writable layer's size (`--storage-opt size=`). */
  scratchSizeGB?: number | undefined;
  /** When to pull the image first (default `missing`). */
  pull: PullPolicy;
  /** No progress on stderr. */
  quiet: boolean;
  /** The create's internal phases as lines on stderr. */
  verbose: boolean;
}

export function isolationOf(value: string | undefined): SandboxIsolation | undefined {
  if (value === undefined) return undefined;
  if (!(sdk().SANDBOX_ISOLATIONS as readonly string[]).includes(value))
    throw new UsageError(`--isolation expects ${sdk().SANDBOX_ISOLATIONS.join(', ')}, got "${value}"`);
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
  cpuPercent?: number;
  ioMaxiops?: number;
  ioMaxbandwidth?: number;
  hostname?: string;
  storageOpt?: number;
  pull?: PullPolicy;
  quiet?: boolean;
  verbose?: boolean;
}

const parsePull = flagValue((value: string): PullPolicy => {
  if (!(PULL_POLICIES as readonly string[]).includes(value))
    throw new UsageError(`expected ${PULL_POLICIES.join(', ')}`);
  return value as PullPolicy;
});

export function specFlags(command: Command): Command {
  return command
    .option('--name <name>', 'name the sandbox (default: a generated sb-xxxxxxxx)')
    .option('--isolation <isolation>', 'process (default), hyperv, or vm (with --image naming a VM image)')
    .option(
      '--memory <size>',
      'memory limit: 512m, 2g (docker units, powers of 1024), or a whole number of MB',
      parseMemoryMB,
    )
    .option('--cpus <n>', 'processors: a whole number, or a fraction (1.5) as a CPU cap', parseCpus)
    .option('--cpu-percent <pct>', 'CPU cap, percent of the host (1-100)', parseCpuPercent)
    .option('--cpu-limit <pct>', 'the same as --cpu-percent', parseCpuPercent)
    .option('--io-maxiops <n>', 'storage limit: IO operations per second', parsePositiveInt)
    .option('--io-maxbandwidth <size>', 'storage limit: bytes per second, e.g. 50m', parseByteFlag)
    .option(
      '--storage-opt <size=SIZE>',
      'size of the writable layer, whole GB (default size=20G)',
      parseStorageOpt,
    )
    .option('--hostname <name>', "the sandbox's host name")
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
    .option('--pull <policy>', 'pull the image: missing (default), always or never', parsePull)
    .option('-q, --quiet', 'no progress on stderr')
    .option('--verbose', "also print the create's internal steps on stderr");
}

const nonEmpty = (values: string[]): string[] | undefined => (values.length ? values : undefined);

export function specOf(image: string, opts: SpecFlags): SandboxSpec {
  if (opts.cpuPercent !== undefined && opts.cpuLimit !== undefined)
    throw new UsageError('--cpu-percent and --cpu-limit are the same setting: give one');
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
    cpuLimit: opts.cpuPercent ?? opts.cpuLimit,
    ioMaxIops: opts.ioMaxiops,
    ioMaxBandwidth: opts.ioMaxbandwidth,
    hostname: opts.hostname,
    scratchSizeGB: opts.storageOpt,
    pull: opts.pull ?? 'missing',
    quiet: opts.quiet === true,
    verbose: opts.verbose === true,
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
    ...(spec.cpus !== undefined && cpusOption(spec.cpus, availableParallelism())),
    ...(spec.workingDir !== undefined && { workingDir: spec.workingDir }),
    ...(spec.network !== undefined && { network: spec.network as NonNullable<SandboxOptions['network']> }),
    ...(spec.ports.length > 0 && { ports: spec.ports }),
    ...(spec.networkName !== undefined && { networkName: spec.networkName }),
    ...(spec.allow !== undefined && { allow: spec.allow }),
    ...((spec.dns !== undefined || spec.dnsSearch !== undefined) && {
      dns: { ...(spec.dns && { servers: spec.dns }), ...(spec.dnsSearch && { search: spec.dnsSearch }) },
    }),
    ...(spec.cpuLimit !== undefined && { cpuLimit: spec.cpuLimit }),
    ...(spec.ioMaxIops !== undefined && { ioMaxIops: spec.ioMaxIops }),
    ...(spec.ioMaxBandwidth !== undefined && { ioMaxBandwidth: spec.ioMaxBandwidth }),
    ...(spec.hostname !== undefined && { hostName: spec.hostname }),
    ...(spec.scratchSizeGB !== undefined && { scratchSizeGB: spec.scratchSizeGB }),
    env: spec.env,
    mappedFolders: spec.volumes.map((v) => ({ ...v, hostPath: absoluteHostPath(v.hostPath) })),
  };
}
