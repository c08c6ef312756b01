import { access, readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../../internal/atomic-file.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { packageVersion } from '../../internal/package-version.js';
import { packagedAgent, packagedAgentDir } from '../../internal/packaged-agent.js';
import { InsufficientSpaceError } from '../errors.js';
import type { Progress } from '../types.js';
import { AgentBinariesMissingError, VmImageBuildError } from './build-errors.js';
import { type BuildHost, buildHost, type MountedIso } from './build-host.js';
import { buildPlan, checkStagingEntries, type StagingEntry } from './build-plan.js';
import { VmImageCorruptError, VmImageExistsError } from './errors.js';
import { StepRunner, sessionNeeded } from './step-runner.js';
import { checkVmImageName, VmImageStore } from './store.js';
import type { VmImageAgent, VmImageRecord, VmImageSource } from './types.js';
import { checkUnattendOptions, DEFAULT_VM_USER, generatePassword, renderUnattend } from './unattend.js';
import { readWimInfo, selectWimImage, type WimImage } from './wim-info.js';

export const DEFAULT_VM_IMAGE_SIZE_GB = 40;
const MIN_SIZE_GB = 16;
const MAX_SIZE_GB = 2048;

export interface BuildVmImageOptions {
  name: string;
  /** A Windows ISO (its `sources\install.wim` or `install.esd` is applied). Exactly one of iso/wim. */
  iso?: string;
  wim?: string;
  /** The WIM image to apply (1-based); or `edition`; needed when the WIM holds several. */
  index?: number;
  /** Edition id (`Professional`) or display name (`Windows 11 Pro`) of the image to apply. */
  edition?: string;
  /** The base VHDX's capacity in GB (GiB, fixed size: the file takes it all). Default 40. */
  sizeGB?: number;
  /** The image's local administrator (default `sandbox`) and password (default: generated). */
  userName?: string;
  password?: string;
  computerName?: string;
  locale?: string;
  /** Files staged in the image's agent folder (`agent.exe` makes SetupComplete install the service). */
  stage?: StagingEntry[];
  /**
   * Stage the guest agent this package ships (dist/agent/agent.exe) unless
   * `stage` brings an agent.exe of its own. Default true: without it the
   * image's sandboxes have a screen but no commands or files.
   */
  agent?: boolean;
  /** Where agent.exe is for `agent` (default: this package's dist/agent). */
  agentDir?: string;
  store?: VmImageStore;
  host?: BuildHost;
  onProgress?: (progress: Progress) => void;
}

/** The image's login, kept beside its record (`credentials.json`, administrators only). */
export interface VmImageCredentials {
  userName: string;
  password: string;
}

export function credentialsPathOf(store: VmImageStore, name: string): string {
  return join(store.pathsOf(name).dir, 'credentials.json');
}

/** The login of image `name` (what the VM's console asks for), or undefined when it has none. */
export async function readVmImageCredentials(
  name: string,
  store = new VmImageStore(),
): Promise<VmImageCredentials | undefined> {
  const path = credentialsPathOf(store, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VmImageCorruptError(path, 'not JSON', { cause: err });
  }
  const c = value as Partial<VmImageCredentials> | null;
  if (typeof c?.userName !== 'string' || typeof c.password !== 'string')
    throw new VmImageCorruptError(path, 'userName or password is missing');
  return { userName: c.userName, password: c.password };
}

function checkSize(sizeGB: number): number {
  if (!Number.isInteger(sizeGB) || sizeGB < MIN_SIZE_GB || sizeGB > MAX_SIZE_GB)
    throw new InvalidArgumentError(
      'sizeGB',
      `a whole number of GB from ${MIN_SIZE_GB} to ${MAX_SIZE_GB}`,
      sizeGB,
    );
  return sizeGB * 2 ** 30;
}

async function checkMedia(options: BuildVmImageOptions): Promise<VmImageSource['kind']> {
  if ((options.iso === undefined) === (options.wim === undefined))
    throw new InvalidArgumentError('media', 'exactly one of --iso <file> or --wim <file>', {
      iso: options.iso,
      wim: options.wim,
    });
  const kind = options.iso !== undefined ? 'iso' : 'wim';
  const path = (options.iso ?? options.wim)!;
  const allowed = kind === 'iso' ? 'an existing Windows ISO file' : 'an existing WIM or ESD file';
  try {
    if (!(await stat(path)).isFile()) throw new InvalidArgumentError(kind, allowed, path, 'not a file');
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(kind, allowed, path, (err as NodeJS.ErrnoException).code ?? String(err));
  }
  if (options.index !== undefined && (!Number.isSafeInteger(options.index) || options.index < 1))
    throw new InvalidArgumentError('index', 'a 1-based image index', options.index);
  return kind;
}

/** `sources\install.wim`, else `sources\install.esd`, on a mounted Windows ISO. */
async function findInstallImage(root: string): Promise<string> {
  for (const file of ['install.wim', 'install.esd']) {
    const path = join(root, 'sources', file);
    try {
      await access(path);
      return path;
    } catch {}
  }
  throw new InvalidArgumentError(
    'iso',
    'a Windows installation ISO (with sources\\install.wim or sources\\install.esd)',
    root,
    'neither file is on the mounted volume',
  );
}

async function ensureCredentials(
  store: VmImageStore,
  name: string,
  options: BuildVmImageOptions,
): Promise<VmImageCredentials> {
  // A resumed build keeps the login it began with: the answer file may already carry it.
  const existing = await readVmImageCredentials(name, store);
  if (existing) return existing;
  const credentials = {
    userName: options.userName ?? DEFAULT_VM_USER,
    password: options.password ?? generatePassword(),
  };
  await writeFileAtomic(credentialsPathOf(store, name), `${JSON.stringify(credentials, null, 2)}\n`);
  return credentials;
}

/**
 * Builds (or resumes building) VM image `name`: checks everything it can
 * before touching the host (name, media, size, elevation, free space, the
 * WIM's images), then runs the plan step by step, recording each finished
 * step. A failure leaves the image `building` with a {@link VmImageBuildError}
 * saying how to resume or remove it; the VHDX is detached either way.
 */
export async function buildVmImage(options: BuildVmImageOptions): Promise<VmImageRecord> {
  const name = checkVmImageName('name', options.name);
  const kind = await checkMedia(options);
  const mediaPath = resolve((options.iso ?? options.wim)!);
  const sizeBytes = checkSize(options.sizeGB ?? DEFAULT_VM_IMAGE_SIZE_GB);
  const stage = withPackagedAgent(options.stage ?? [], options.agent ?? true, options.agentDir);
  checkStagingEntries(stage);
  checkUnattendOptions({
    userName: options.userName ?? DEFAULT_VM_USER,
    password: options.password ?? 'checked-later',
    ...(options.computerName !== undefined && { computerName: options.computerName }),
    ...(options.locale !== undefined && { locale: options.locale }),
  });
  const store = options.store ?? new VmImageStore();
  const host = options.host ?? (await buildHost());
  host.requireElevation('vm image build');

  const existing = await store.get(name);
  if (existing?.status === 'ready') throw new VmImageExistsError(name, 'exists already (remove it first)');
  if (!existing?.stepsDone.includes('create-disk')) {
    const space = await host.freeSpace(store.dir);
    if (space.freeBytes < sizeBytes)
      throw new InsufficientSpaceError(space.volume, space.freeBytes, sizeBytes);
  }

  let iso: MountedIso | undefined;
  try {
    let wimPath = mediaPath;
    if (kind === 'iso') {
      iso = await host.mountIso(mediaPath);
      wimPath = await findInstallImage(iso.root);
    }
    const image = selectWimImage(await readWimInfo(wimPath), {
      ...(options.index !== undefined && { index: options.index }),
      ...(options.edition !== undefined && { edition: options.edition }),
    });
    if (image.architecture !== undefined && image.architecture !== 'amd64')
      throw new InvalidArgumentError(
        'index',
        'an amd64 Windows image (VM sandboxes boot x64 Windows)',
        image.index,
        image.architecture,
      );
    await store.begin(name, { kind, path: mediaPath, index: image.index });
    const record = await store.learn(name, factsOf(image));
    await runPlan(name, record, { store, host, sizeBytes, wimPath, image, stage, options });
    const agent = stagedAgent(stage);
    return store.finish(name, {
      sizeBytes: await host.fileSize(record.vhdxPath),
      ...factsOf(image),
      ...(agent && { agent }),
    });
  } finally {
    await iso?.dismount();
  }
}

/** `stage`, plus the packaged agent.exe when `agent` is wanted and `stage` brings none. */
export function withPackagedAgent(
  stage: StagingEntry[],
  agent: boolean,
  agentDir = packagedAgentDir(),
): StagingEntry[] {
  if (!agent || stage.some((e) => e.to.toLowerCase() === 'agent.exe')) return stage;
  const packaged = packagedAgent(agentDir.endsWith(sep) ? agentDir : `${agentDir}${sep}`);
  if (!packaged) throw new AgentBinariesMissingError(agentDir);
  return [...stage, { from: packaged.agentExe, to: 'agent.exe' }];
}

/** What the image record says of the agent staged by `stage`, if any. */
export function stagedAgent(stage: StagingEntry[]): VmImageAgent | undefined {
  const exe = stage.find((e) => e.to.toLowerCase() === 'agent.exe');
  if (!exe) return undefined;
  return { from: resolve(exe.from), stagedBy: packageVersion(), stagedAt: new Date().toISOString() };
}

function factsOf(image: WimImage): Partial<Pick<VmImageRecord, 'build' | 'edition' | 'displayName'>> {
  return {
    ...(image.build !== undefined && { build: image.build }),
    ...(image.edition !== undefined && { edition: image.edition }),
    displayName: image.displayName ?? image.name,
  };
}

interface PlanContext {
  store: VmImageStore;
  host: BuildHost;
  sizeBytes: number;
  wimPath: string;
  image: WimImage;
  stage: StagingEntry[];
  options: BuildVmImageOptions;
}

async function runPlan(name: string, record: VmImageRecord, context: PlanContext): Promise<void> {
  const { store, host, options } = context;
  const credentials = await ensureCredentials(store, name, options);
  const unattendXml = renderUnattend({
    ...credentials,
    ...(options.computerName !== undefined && { computerName: options.computerName }),
    ...(options.locale !== undefined && { locale: options.locale }),
  });
  const paths = store.pathsOf(name);
  const espLetter = await host.freeDriveLetter();
  const planFor = (diskNumber: number) =>
    buildPlan({
      vhdxPath: record.vhdxPath,
      sizeBytes: context.sizeBytes,
      wimPath: context.wimPath,
      wimIndex: context.image.index,
      diskNumber,
      espLetter,
      workDir: paths.work,
      system32: host.system32,
      unattendXml,
      credentialsPath: credentialsPathOf(store, name),
      stage: context.stage,
    });
  // The disk number is known once the VHDX is attached; the steps before it do not use it.
  let steps = planFor(0);
  const done = new Set(record.stepsDone);
  const runner = new StepRunner(host, context.sizeBytes);
  const report = (phase: string, index: number) =>
    options.onProgress?.({ item: name, phase, done: index, total: steps.length });
  try {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (done.has(step.name) || (step.session && !sessionNeeded(steps, i, done))) continue;
      report(step.name, i);
      await runner.guard(step);
      try {
        await runner.run(step);
        if ('action' in step.run && step.run.action === 'attach-disk')
          steps = planFor(await runner.diskNumber());
      } catch (err) {
        throw new VmImageBuildError(name, step.name, err);
      }
      if (!step.session) {
        await store.stepDone(name, step.name);
        done.add(step.name);
      }
    }
    report('ready', steps.length);
  } finally {
    await runner.disk?.close();
  }
}
