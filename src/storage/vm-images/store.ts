import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../internal/atomic-file.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { processAlive, withFileLock } from '../../internal/file-lock.js';
import { type StoreRootInputs, storeRoot } from '../../internal/store-root.js';
import { VmImageCorruptError, VmImageExistsError, VmImageNotFoundError } from './errors.js';
import type { VmImageAgent, VmImageRecord, VmImageSource } from './types.js';

/**
 * hcs-sandbox's store of Windows VM images:
 *
 * ```
 * <root>\vm-images\<name>\image.json   VmImageRecord (replaced atomically)
 * <root>\vm-images\<name>\base.vhdx    the bootable base disk, never written after its build
 * <root>\vm-images\<name>\work\        the build's scratch (mount points, staged files)
 * ```
 *
 * A record is `building` from the first build step on, so an interrupted
 * build is never mistaken for a bootable image: it is resumed (same source)
 * or removed.
 */
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const NAME_RULE =
  'a lowercase name of 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';

export function checkVmImageName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..'))
    throw new InvalidArgumentError(field, NAME_RULE, name);
  return name;
}

export interface VmImagePaths {
  dir: string;
  record: string;
  vhdx: string;
  work: string;
}

export interface VmImageListing {
  images: VmImageRecord[];
  /** Folders whose record could not be read (listed, not fatal). */
  warnings: { name: string; message: string }[];
}

export interface VmImageStoreOptions extends StoreRootInputs {
  root?: string;
}

export class VmImageStore {
  readonly root: string;
  readonly dir: string;

  constructor(options: VmImageStoreOptions = {}) {
    const { root, ...inputs } = options;
    this.root = root ?? storeRoot(inputs);
    this.dir = join(this.root, 'vm-images');
  }

  pathsOf(name: string): VmImagePaths {
    const dir = join(this.dir, checkVmImageName('name', name));
    return { dir, record: join(dir, 'image.json'), vhdx: join(dir, 'base.vhdx'), work: join(dir, 'work') };
  }

  async list(): Promise<VmImageListing> {
    const listing: VmImageListing = { images: [], warnings: [] };
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return listing;
      throw err;
    }
    for (const name of names.sort()) {
      if (!NAME.test(name)) continue;
      try {
        const record = await this.get(name);
        if (record) listing.images.push(record);
      } catch (err) {
        listing.warnings.push({ name, message: (err as Error).message });
      }
    }
    return listing;
  }

  /** The record of `name`, ready or building, or undefined when there is none. */
  async get(name: string): Promise<VmImageRecord | undefined> {
    const paths = this.pathsOf(name);
    let text: string;
    try {
      text = await readFile(paths.record, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return parseRecord(paths.record, text, name);
  }

  /** The ready image `name`, or a `VmImageNotFoundError` saying why not. */
  async require(name: string): Promise<VmImageRecord> {
    const record = await this.get(name);
    if (!record) throw new VmImageNotFoundError(name);
    if (record.status !== 'ready')
      throw new VmImageNotFoundError(
        name,
        'its build has not finished (resume it with `hcs-sandbox vm image build` and the same media, or remove it with `vm image rm`)',
      );
    return record;
  }

  /**
   * Starts (or resumes) building `name` from `source`: a new `building` record,
   * or the existing one when an earlier build of the same source was
   * interrupted (its `stepsDone` say where to go on).
   */
  async begin(name: string, source: VmImageSource): Promise<VmImageRecord> {
    const paths = this.pathsOf(name);
    await mkdir(this.dir, { recursive: true });
    return withFileLock(`vm-image:${name}`, `${paths.dir}.lock`, async () => {
      const existing = await this.get(name);
      if (existing) {
        if (existing.status === 'ready')
          throw new VmImageExistsError(name, 'exists already (remove it first)');
        const pid = existing.builderPid;
        if (pid !== undefined && pid !== process.pid && processAlive(pid))
          throw new VmImageExistsError(name, `is being built by process ${pid}`);
        if (existing.source.path !== source.path || existing.source.index !== source.index)
          throw new VmImageExistsError(
            name,
            `has an interrupted build from ${existing.source.path} (index ${existing.source.index}); resume it with the same media or remove it`,
          );
        return this.#write({ ...existing, builderPid: process.pid });
      }
      await mkdir(paths.work, { recursive: true });
      return this.#write({
        version: 1,
        name,
        status: 'building',
        vhdxPath: paths.vhdx,
        sizeBytes: 0,
        source,
        stepsDone: [],
        builderPid: process.pid,
        createdAt: new Date().toISOString(),
      });
    });
  }

  /** Records one more finished build step. */
  async stepDone(name: string, step: string): Promise<VmImageRecord> {
    const record = await this.#existing(name);
    if (record.stepsDone.includes(step)) return record;
    return this.#write({ ...record, stepsDone: [...record.stepsDone, step] });
  }

  /** Marks the build finished with what it learnt about the image. */
  async finish(
    name: string,
    facts: Pick<VmImageRecord, 'sizeBytes'> &
      Partial<Pick<VmImageRecord, 'build' | 'edition' | 'displayName' | 'agent'>>,
  ): Promise<VmImageRecord> {
    const { builderPid: _builder, ...record } = await this.#existing(name);
    await rm(this.pathsOf(name).work, { recursive: true, force: true });
    return this.#write({ ...record, ...facts, status: 'ready', readyAt: new Date().toISOString() });
  }

  /** Records the guest agent staged into a ready image again (`vm image build --agent-only`). */
  async setAgent(name: string, agent: VmImageAgent): Promise<VmImageRecord> {
    return this.#write({ ...(await this.#existing(name)), agent });
  }

  /** Updates facts learnt during the build (edition, build) before it finishes. */
  async learn(name: string, facts: Partial<Pick<VmImageRecord, 'build' | 'edition' | 'displayName'>>) {
    return this.#write({ ...(await this.#existing(name)), ...facts });
  }

  /**
   * Deletes the image's folder. The caller makes sure no sandbox's disk
   * differences over it and that its base disk is not attached.
   */
  async remove(name: string): Promise<VmImageRecord> {
    const record = await this.#existing(name);
    const pid = record.builderPid;
    if (record.status === 'building' && pid !== undefined && pid !== process.pid && processAlive(pid))
      throw new VmImageExistsError(name, `is being built by process ${pid}; stop that build first`);
    await rm(this.pathsOf(name).dir, { recursive: true, force: true });
    return record;
  }

  async #existing(name: string): Promise<VmImageRecord> {
    const record = await this.get(name);
    if (!record) throw new VmImageNotFoundError(name);
    return record;
  }

  async #write(record: VmImageRecord): Promise<VmImageRecord> {
    await writeFileAtomic(this.pathsOf(record.name).record, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  }
}

function parseRecord(path: string, text: string, name: string): VmImageRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VmImageCorruptError(path, 'not JSON', { cause: err });
  }
  const record = value as Partial<VmImageRecord> | null;
  const bad = (field: string) =>
    new VmImageCorruptError(path, `field ${field} is missing or of the wrong type`);
  if (typeof record !== 'object' || record === null || record.version !== 1) throw bad('version');
  if (record.name !== name) throw bad('name');
  if (record.status !== 'building' && record.status !== 'ready') throw bad('status');
  if (typeof record.vhdxPath !== 'string') throw bad('vhdxPath');
  if (typeof record.sizeBytes !== 'number') throw bad('sizeBytes');
  if (!Array.isArray(record.stepsDone) || !record.stepsDone.every((s) => typeof s === 'string'))
    throw bad('stepsDone');
  const source = record.source;
  if (
    typeof source !== 'object' ||
    source === null ||
    (source.kind !== 'iso' && source.kind !== 'wim') ||
    typeof source.path !== 'string' ||
    typeof source.index !== 'number'
  )
    throw bad('source');
  if (typeof record.createdAt !== 'string') throw bad('createdAt');
  for (const field of ['build', 'builderPid', 'sizeBytes'] as const)
    if (record[field] !== undefined && typeof record[field] !== 'number') throw bad(field);
  for (const field of ['edition', 'displayName', 'readyAt'] as const)
    if (record[field] !== undefined && typeof record[field] !== 'string') throw bad(field);
  const agent = record.agent;
  if (
    agent !== undefined &&
    (typeof agent !== 'object' ||
      agent === null ||
      typeof agent.from !== 'string' ||
      typeof agent.stagedBy !== 'string' ||
      typeof agent.stagedAt !== 'string')
  )
    throw bad('agent');
  return record as VmImageRecord;
}
