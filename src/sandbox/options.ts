import { isAbsolute as isPosixAbsolute, win32 } from 'node:path';
import { InvalidArgumentError } from '../internal/errors.js';
import { SANDBOX_ISOLATIONS, type SandboxIsolation } from '../internal/isolation.js';
import {
  checkPortMapping,
  type DnsOptions,
  NETWORK_MODES,
  type NetworkMode,
  type PortMapping,
  parseCidr,
  parsePortMapping,
} from '../network/index.js';
import { DEFAULT_OWNER } from '../schema/index.js';
import {
  checkDns,
  checkHome,
  checkNetworkName,
  checkOptionTypes,
  checkOwner,
  checkSandboxHostName,
} from './option-types.js';
import { type StoredOptions, validateSandboxName } from './record.js';

export type Isolation = SandboxIsolation;
const ISOLATIONS = SANDBOX_ISOLATIONS;

export interface MappedFolder {
  /** Absolute folder on the host. */
  hostPath: string;
  /** Absolute folder inside the sandbox (`C:\data`). */
  sandboxPath: string;
  readOnly?: boolean;
}

export interface SandboxOptions {
  /** Image reference (`mcr.microsoft.com/windows/nanoserver:ltsc2022`); required for `process` and `hyperv`. */
  image?: string;
  /** `process` (default): a Windows Server container. `hyperv`: one in a utility VM. `vm`: not yet. */
  isolation?: Isolation;
  /** A name for the sandbox (default: generated). Named sandboxes are found again with `Sandbox.open`. */
  name?: string;
  /** Keep the sandbox (stopped) when its creator exits, and its files across stop/start. Default false. */
  persistent?: boolean;
  memoryMB?: number;
  cpus?: number;
  /** CPU cap, percent of the host (1-100, in steps of 0.01 as HCS takes it). */
  cpuLimit?: number;
  /** Relative CPU weight against other sandboxes (1-10000). One of cpus, cpuLimit, cpuWeight. */
  cpuWeight?: number;
  /** Storage QoS: IO operations per second (the container's volume; the utility VM's under Hyper-V isolation). */
  ioMaxIops?: number;
  /** Storage QoS: bytes per second (the container's volume; the utility VM's under Hyper-V isolation). */
  ioMaxBandwidth?: number;
  mappedFolders?: MappedFolder[];
  /** Default environment of every command. */
  env?: Record<string, string>;
  /** Default working directory of every command. */
  workingDir?: string;
  hostName?: string;
  /** Size of the writable layer, GB (default 20). */
  scratchSizeGB?: number;
  /** Owner written into the compute system (default `hcs-sandbox`). */
  owner?: string;
  /** Where sandbox state and images live (default `%ProgramData%\hcs-sandbox`, or `HCS_SANDBOX_HOME`). */
  home?: string;
  /** Create only; start later with `sandbox.start()`. */
  start?: boolean;
  /**
   * `nat` (default): outbound through the host's NAT. `isolated`: outbound
   * only, the host and private ranges blocked. `internal`: only sandboxes on the
   * same internal network. `none`: no adapter.
   */
  network?: NetworkMode;
  /** Join this existing network (name or id) instead of the mode's default one. */
  networkName?: string;
  /** Published ports: `'8080:80'`, `'5353:53/udp'`, or `{ hostPort, sandboxPort, protocol }`. */
  ports?: (string | PortMapping)[];
  /** `isolated` mode: CIDRs reachable despite the blocks. */
  allow?: string[];
  dns?: DnsOptions;
}

export interface NormalisedOptions {
  image: string | undefined;
  isolation: Isolation;
  name: string | undefined;
  persistent: boolean;
  memoryMB: number | undefined;
  cpus: number | undefined;
  cpuLimit: number | undefined;
  cpuWeight: number | undefined;
  ioMaxIops: number | undefined;
  ioMaxBandwidth: number | undefined;
  mappedFolders: Required<MappedFolder>[];
  env: Record<string, string>;
  workingDir: string | undefined;
  hostName: string | undefined;
  scratchSizeGB: number;
  owner: string;
  home: string | undefined;
  start: boolean;
  network: NetworkMode;
  networkName: string | undefined;
  ports: PortMapping[];
  allow: string[];
  dns: DnsOptions | undefined;
}

/** An absolute Windows path inside a sandbox: `C:\...` (drive C only, as containers have). */
export function checkSandboxPath(field: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    !/^[cC]:\\/.test(value) ||
    value.includes('\0') ||
    /(^|\\)\.\.(\\|$)/.test(value)
  ) {
    throw new InvalidArgumentError(
      field,
      'an absolute path inside the sandbox, on drive C: (C:\\...), without ..',
      value,
    );
  }
  return win32.normalize(value);
}

/** An absolute host path (Windows form on Windows; POSIX accepted elsewhere for development). */
export function checkHostPath(field: string, value: unknown): string {
  const windowsAbsolute = typeof value === 'string' && /^([a-zA-Z]:[\\/]|\\\\[^\\]+\\[^\\]+)/.test(value);
  const ok =
    process.platform === 'win32'
      ? windowsAbsolute
      : windowsAbsolute || (typeof value === 'string' && isPosixAbsolute(value));
  if (typeof value !== 'string' || !ok || value.includes('\0')) {
    throw new InvalidArgumentError(field, 'an absolute host path (C:\\... or \\\\server\\share\\...)', value);
  }
  return value;
}

function positiveInt(
  field: string,
  value: unknown,
  min: number,
  max: number,
  unit: string,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(field, `a whole number of ${unit} from ${min} to ${max}`, value);
  }
  return value;
}

/** Validates every option before anything native runs; throws InvalidArgumentError naming the field. */
export function normaliseOptions(
  options: SandboxOptions,
  host: { cpus: number; memoryMB: number },
): NormalisedOptions {
  // Types first (and unknown keys): every check below may then trust them.
  checkOptionTypes(options);
  const isolation = options.isolation ?? 'process';
  if (!ISOLATIONS.includes(isolation)) {
    throw new InvalidArgumentError('isolation', ISOLATIONS.join(', '), isolation);
  }
  if (options.image !== undefined && (typeof options.image !== 'string' || !options.image.trim())) {
    throw new InvalidArgumentError('image', 'an image reference', options.image);
  }
  if (isolation !== 'vm' && options.image === undefined) {
    throw new InvalidArgumentError(
      'image',
      `an image reference (needed for ${isolation} isolation)`,
      undefined,
    );
  }
  if (options.name !== undefined) validateSandboxName(options.name);
  const env = options.env ?? {};
  if (typeof env !== 'object' || env === null)
    throw new InvalidArgumentError('env', 'an object of strings', env);
  for (const [key, value] of Object.entries(env)) {
    if (!key || key.includes('=') || typeof value !== 'string') {
      throw new InvalidArgumentError(`env.${key}`, 'a name without "=" and a string value', value);
    }
  }
  const mappedFolders = (options.mappedFolders ?? []).map((folder, i) => {
    if (!folder || typeof folder !== 'object') {
      throw new InvalidArgumentError(`mappedFolders[${i}]`, '{ hostPath, sandboxPath, readOnly? }', folder);
    }
    return {
      hostPath: checkHostPath(`mappedFolders[${i}].hostPath`, folder.hostPath),
      sandboxPath: checkSandboxPath(`mappedFolders[${i}].sandboxPath`, folder.sandboxPath),
      readOnly: folder.readOnly ?? false,
    };
  });
  const seen = new Set<string>();
  mappedFolders.forEach((f, i) => {
    const key = f.sandboxPath.toLowerCase();
    if (seen.has(key)) {
      throw new InvalidArgumentError(
        `mappedFolders[${i}].sandboxPath`,
        'a sandbox path not mapped twice',
        f.sandboxPath,
      );
    }
    seen.add(key);
  });
  const cpuLimit = options.cpuLimit;
  if (cpuLimit !== undefined && !(typeof cpuLimit === 'number' && cpuLimit >= 1 && cpuLimit <= 100)) {
    throw new InvalidArgumentError('cpuLimit', 'a percentage of the host from 1 to 100', cpuLimit);
  }
  const cpuWeight = positiveInt('cpuWeight', options.cpuWeight, 1, 10000, 'weight units');
  const processorLimits = [
    options.cpus !== undefined && 'cpus',
    cpuLimit !== undefined && 'cpuLimit',
    cpuWeight !== undefined && 'cpuWeight',
  ].filter(Boolean);
  if (processorLimits.length > 1) {
    throw new InvalidArgumentError(
      String(processorLimits[1]),
      'one of cpus, cpuLimit or cpuWeight (HCS takes a single processor limit)',
      processorLimits,
    );
  }
  const ioMaxIops = positiveInt(
    'ioMaxIops',
    options.ioMaxIops,
    1,
    Number.MAX_SAFE_INTEGER,
    'operations per second',
  );
  const ioMaxBandwidth = positiveInt(
    'ioMaxBandwidth',
    options.ioMaxBandwidth,
    1,
    Number.MAX_SAFE_INTEGER,
    'bytes per second',
  );
  return {
    image: options.image?.trim(),
    isolation,
    name: options.name,
    persistent: options.persistent ?? false,
    memoryMB: positiveInt(
      'memoryMB',
      options.memoryMB,
      256,
      host.memoryMB,
      'MB (at least 256, at most the host memory)',
    ),
    cpus: positiveInt('cpus', options.cpus, 1, host.cpus, `processors (this host has ${host.cpus})`),
    cpuLimit,
    cpuWeight,
    ioMaxIops,
    ioMaxBandwidth,
    mappedFolders,
    env,
    workingDir:
      options.workingDir === undefined ? undefined : checkSandboxPath('workingDir', options.workingDir),
    hostName: options.hostName === undefined ? undefined : checkSandboxHostName(options.hostName),
    scratchSizeGB: positiveInt('scratchSizeGB', options.scratchSizeGB, 1, 1024, 'GB') ?? 20,
    owner: options.owner === undefined ? DEFAULT_OWNER : checkOwner(options.owner),
    home: options.home === undefined ? undefined : checkHome(options.home),
    start: options.start ?? true,
    ...networkOptions(options),
  };
}

function networkOptions(options: SandboxOptions) {
  const network = options.network ?? 'nat';
  if (!NETWORK_MODES.includes(network))
    throw new InvalidArgumentError('network', NETWORK_MODES.join(', '), network);
  const ports = (options.ports ?? []).map((p, i) =>
    typeof p === 'string' ? parsePortMapping(p, `ports[${i}]`) : checkPortMapping(p, `ports[${i}]`),
  );
  if (network === 'none' && ports.length) {
    throw new InvalidArgumentError('ports', 'no published ports with network "none"', options.ports);
  }
  const allow = (options.allow ?? []).map((cidr, i) => {
    parseCidr(cidr, `allow[${i}]`);
    return cidr;
  });
  if (allow.length && network !== 'isolated') {
    throw new InvalidArgumentError('allow', 'allowed ranges only with network "isolated"', options.allow);
  }
  const networkName = options.networkName === undefined ? undefined : checkNetworkName(options.networkName);
  const dns = options.dns === undefined ? undefined : checkDns(options.dns);
  return { network, networkName, ports, allow, dns };
}

/** What a record keeps of the options (the network is added once it exists). */
export function toStoredOptions(o: NormalisedOptions): StoredOptions {
  const picked = {
    memoryMB: o.memoryMB,
    cpus: o.cpus,
    cpuLimit: o.cpuLimit,
    cpuWeight: o.cpuWeight,
    ioMaxIops: o.ioMaxIops,
    ioMaxBandwidth: o.ioMaxBandwidth,
    mappedFolders: o.mappedFolders,
    env: o.env,
    workingDir: o.workingDir,
    hostName: o.hostName,
    scratchSizeGB: o.scratchSizeGB,
    owner: o.owner,
  };
  return Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined));
}
