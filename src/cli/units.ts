import { flagValue, UsageError } from './command.js';
import { sdk } from './sdk.js';

/**
 * Sizes and processor counts as docker's flags take them, shared by every
 * verb (`run`, `create`, `update`, `job run`), so `--memory 512m` means the
 * same everywhere.
 */

/** Docker's one-letter units (`docker run --memory`): powers of 1024, as its RAMInBytes reads them. */
const DOCKER_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

const SIZE_ALLOWED =
  'a size such as 512m or 2g (b, k, m, g, t: powers of 1024, as docker), or 512MiB / 500MB (KiB/MiB/GiB powers of 1024, KB/MB/GB powers of 1000)';

/**
 * A byte size: docker's `512m`, `2g`, `1.5g` (one letter, powers of 1024),
 * or the SDK's spelled-out units (`512MiB`, `500MB`, see `parseBytes`).
 * `bare` says what a number without a unit counts: bytes (`job run`, as
 * parseBytes) or MB (`--memory 2048`, as the CLI took it before units).
 */
export function parseSize(value: string, bare: 'bytes' | 'MB' = 'bytes'): number {
  const text = value.trim();
  if (/^\d+$/.test(text) && bare === 'MB') return Number(text) * 2 ** 20;
  const docker = /^(\d+(?:\.\d+)?|\.\d+) ?([bkmgt])$/i.exec(text);
  if (docker) {
    const bytes = Number(docker[1]) * (DOCKER_UNITS[(docker[2] as string).toLowerCase()] as number);
    if (!Number.isSafeInteger(Math.round(bytes))) throw new UsageError(`expected ${SIZE_ALLOWED}: too large`);
    return Math.round(bytes);
  }
  const lib = sdk();
  try {
    return lib.jobs.parseBytes(text, 'size');
  } catch (error) {
    if (error instanceof lib.InvalidArgumentError) throw new UsageError(`expected ${SIZE_ALLOWED}`);
    throw error;
  }
}

/** `--memory` of a sandbox: a size (a bare number is MB), as whole MB for the SDK's `memoryMB`. */
export const parseMemoryMB = flagValue((value: string): number => {
  const bytes = parseSize(value, 'MB');
  const mb = bytes / 2 ** 20;
  if (!Number.isInteger(mb) || mb <= 0)
    throw new UsageError(`expected a whole number of MB (e.g. 512m, 2g, 2048), got ${bytes} bytes`);
  return mb;
});

/** A byte size flag (`job run --memory`, `--io-maxbandwidth`): a bare number is bytes. */
export const parseByteFlag = flagValue((value: string): number => parseSize(value, 'bytes'));

/**
 * `--storage-opt size=20G` → the writable layer's size in whole GB (docker's
 * only storage option on Windows). Other keys are refused by name.
 */
export const parseStorageOpt = flagValue((value: string): number => {
  const match = /^size=(.+)$/i.exec(value.trim());
  if (!match) throw new UsageError('only size=SIZE is supported (e.g. size=20G)');
  const gb = parseSize(match[1] as string) / 2 ** 30;
  if (!Number.isInteger(gb) || gb <= 0) throw new UsageError('size= expects whole GB (e.g. size=20G)');
  return gb;
});

/**
 * `--cpus`: docker takes a fraction of the host's processors. A whole number
 * is a processor count (the SDK's `cpus`); a fraction (`1.5`) becomes a CPU
 * cap, percent of the whole host (`cpuLimit`), which is what docker does for
 * process isolation (moby `daemon/oci_windows.go`: NanoCPUs → CPU maximum).
 */
export const parseCpus = flagValue((value: string): number => {
  const n = Number(value.trim());
  if (!/^(\d+(\.\d+)?|\.\d+)$/.test(value.trim()) || !Number.isFinite(n) || n <= 0)
    throw new UsageError('expected a number of processors above 0 (e.g. 2 or 1.5)');
  return n;
});

/** What `--cpus N` asks of the SDK on a host with `hostCpus` processors. */
export function cpusOption(cpus: number, hostCpus: number): { cpus: number } | { cpuLimit: number } {
  if (Number.isInteger(cpus)) return { cpus };
  // HCS takes the cap in hundredths of a percent; at least 1 % as the SDK accepts.
  const percent = Math.min(100, Math.max(1, Math.round((cpus / hostCpus) * 10_000) / 100));
  return { cpuLimit: percent };
}

/** `--cpu-percent` / `--cpu-limit`: a CPU cap, percent of the host (1-100, `%` allowed). */
export const parseCpuPercent = flagValue((value: string): number => {
  const n = Number(value.trim().replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 1 || n > 100) throw new UsageError('expected a percentage from 1 to 100');
  return n;
});
