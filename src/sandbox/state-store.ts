import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  errorCode,
  readIfExists,
  syncFolder,
  tempFileWriterPid,
  unlinkIfExists,
  writeFileAtomic,
} from '../internal/atomic-file.js';
import { InvalidArgumentError } from '../internal/errors.js';
import { lockOwner, processAlive, type WithLockOptions, withFileLock } from '../internal/file-lock.js';
import { storeRoot } from '../internal/store-root.js';
import { secureStoreRoot } from '../storage/store-root-security.js';
import { SandboxBusyError, SandboxExistsError, SandboxNotFoundError, StateCorruptError } from './errors.js';
import {
  checkRecord,
  isSandboxName,
  type SandboxRecord,
  type SandboxStatus,
  type StoredOptions,
  validateSandboxName,
} from './record.js';

/**
 * The per-machine sandbox state store: one JSON file per sandbox under
 * `<root>/sandboxes/<name>.json`, replaced atomically (readers in other
 * processes see the old record or the new one, never a torn file), and a lock
 * file per sandbox under `<root>/locks/` so two processes cannot start or
 * remove the same sandbox at once. Writes to a record (create, update,
 * remove) take its lock themselves; inside `withLock` they reuse it.
 *
 * The HCS view is the truth for what runs; this store is what we remember.
 */

export type { WithLockOptions } from '../internal/file-lock.js';
export type { LockOwner } from './errors.js';

export {
  checkRecord,
  isSandboxName,
  SANDBOX_ISOLATIONS,
  SANDBOX_STATUSES,
  type SandboxIsolation,
  type SandboxRecord,
  type SandboxStatus,
  type StoredMappedFolder,
  type StoredOptions,
  validateSandboxName,
} from './record.js';

/** What `createRecord` takes: `createdAt` defaults to now, `updatedAt` is the store's. */
export type NewSandboxRecord = Omit<SandboxRecord, 'createdAt' | 'updatedAt'> & { createdAt?: string };

/**
 * A change to a record. `name` and `createdAt` never change; an optional
 * field set to `undefined` is removed.
 */
export type SandboxRecordPatch = {
  [K in Exclude<keyof SandboxRecord, 'name' | 'createdAt' | 'updatedAt'>]?: SandboxRecord[K] | undefined;
};

/** What a transition changes besides the status; `options` is merged, not replaced. */
export type TransitionPatch = Omit<SandboxRecordPatch, 'status' | 'options'> & {
  options?: { [K in keyof StoredOptions]?: StoredOptions[K] | undefined };
};

export interface StateStoreOptions {
  /** The store's folder; default `HCS_SANDBOX_HOME`, else `%ProgramData%\hcs-sandbox` (Windows) or `~/.hcs-sandbox`. */
  root?: string;
  /** Default wait for `withLock` and for the writes that lock. */
  lockTimeoutMs?: number;
}

export interface DefaultRootInputs {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/** Record files are written in this format; a newer one is refused rather than misread. */
export const STATE_FORMAT_VERSION = 1;

/** Where the store lives when nothing says otherwise. */
export function defaultStateRoot(inputs: DefaultRootInputs = {}): string {
  return storeRoot(inputs);
}

export class StateStore {
  readonly root: string;
  private readonly lockTimeoutMs: number | undefined;

  constructor(options: StateStoreOptions = {}) {
    this.root = options.root !== undefined ? resolve(options.root) : defaultStateRoot();
    this.lockTimeoutMs = options.lockTimeoutMs;
  }

  get sandboxesDir(): string {
    return join(this.root, 'sandboxes');
  }

  get locksDir(): string {
    return join(this.root, 'locks');
  }

  recordPath(name: string): string {
    validateSandboxName(name);
    return join(this.sandboxesDir, `${name}.json`);
  }

  lockPath(name: string): string {
    validateSandboxName(name);
    return join(this.locksDir, `${name}.lock`);
  }

  /**
   * Runs `fn` holding the sandbox's lock (re-entrant within `fn`). Another
   * process holding it makes this wait up to `timeoutMs` (default 10 s),
   * then throw `SandboxBusyError`. A lock whose process is gone is taken over.
   * Every write to the store goes through here, so this is where the root is
   * made (or checked to be) reachable by administrators and its owner only.
   *
   * @throws StoreRootNotSecureError
   */
  async withLock<T>(name: string, fn: () => Promise<T> | T, options: WithLockOptions = {}): Promise<T> {
    const path = this.lockPath(name);
    await secureStoreRoot(this.root);
    const timeoutMs = options.timeoutMs ?? this.lockTimeoutMs;
    return withFileLock(name, path, async () => fn(), {
      busyError: (key, waitedMs, owner) => new SandboxBusyError(key, waitedMs, owner),
      ...options,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  }

  /** Who holds the sandbox's lock now, if anyone. */
  async lockHolder(name: string) {
    return lockOwner(this.lockPath(name));
  }

  /** @throws SandboxExistsError, InvalidArgumentError, SandboxBusyError */
  async createRecord(record: NewSandboxRecord, options: WithLockOptions = {}): Promise<SandboxRecord> {
    validateSandboxName(record.name);
    const now = new Date().toISOString();
    const full = checkRecord({ ...record, createdAt: record.createdAt ?? now, updatedAt: now });
    return this.withLock(
      record.name,
      async () => {
        if ((await this.findRecord(record.name)) !== undefined) throw new SandboxExistsError(record.name);
        await this.write(full);
        return full;
      },
      options,
    );
  }

  /** The record, or `undefined` when there is none. @throws StateCorruptError */
  async findRecord(name: string): Promise<SandboxRecord | undefined> {
    const path = this.recordPath(name);
    const text = await readIfExists(path);
    if (text === undefined) return undefined;
    const record = parseRecordFile(path, text);
    if (record.name !== name)
      throw new StateCorruptError(path, `it holds sandbox ${JSON.stringify(record.name)}`);
    return record;
  }

  /**
   * The sandbox's writable-layer folder, `<root>\scratch\<name>`: the only
   * folder rm and gc ever destroy. A record naming any other folder (planted,
   * or edited by hand) is refused before anything is touched.
   *
   * @throws StateCorruptError
   */
  scratchDirOf(record: SandboxRecord): string | undefined {
    if (record.scratchDir === undefined) return undefined;
    const expected = join(this.root, 'scratch', record.name);
    if (!samePath(resolve(record.scratchDir), expected)) {
      throw new StateCorruptError(
        this.recordPath(record.name),
        `its writable layer ${JSON.stringify(record.scratchDir)} is not ${expected}; nothing was destroyed`,
      );
    }
    return expected;
  }

  /** @throws SandboxNotFoundError, StateCorruptError */
  async getRecord(name: string): Promise<SandboxRecord> {
    const record = await this.findRecord(name);
    if (!record) throw new SandboxNotFoundError(name);
    return record;
  }

  /**
   * Applies `patch` (or what a function of the current record returns) under
   * the sandbox's lock, so concurrent updates from several processes are
   * never lost.
   *
   * @throws SandboxNotFoundError, InvalidArgumentError, SandboxBusyError
   */
  async updateRecord(
    name: string,
    patch: SandboxRecordPatch | ((current: SandboxRecord) => SandboxRecordPatch),
    options: WithLockOptions = {},
  ): Promise<SandboxRecord> {
    validateSandboxName(name);
    return this.withLock(
      name,
      async () => {
        const current = await this.getRecord(name);
        const changes = typeof patch === 'function' ? patch(current) : patch;
        if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
          throw new InvalidArgumentError('patch', 'an object of record fields', changes);
        }
        for (const key of ['name', 'createdAt', 'updatedAt'] as const) {
          if (key in changes) {
            throw new InvalidArgumentError(
              `patch.${key}`,
              'no change (the store sets it)',
              (changes as Record<string, unknown>)[key],
            );
          }
        }
        const next: Record<string, unknown> = { ...current };
        for (const [key, value] of Object.entries(changes)) {
          if (value === undefined) delete next[key];
          else next[key] = value;
        }
        next.updatedAt = new Date().toISOString();
        const record = checkRecord(next);
        await this.write(record);
        return record;
      },
      options,
    );
  }

  /**
   * Moves a record to `status` (creating -> created -> running <-> paused /
   * stopped -> removing) and applies `patch` with it, in one write under the
   * sandbox's lock; `patch.options` is merged into the stored options field by
   * field (a field set to `undefined` is removed).
   */
  async transition(
    name: string,
    status: SandboxStatus,
    patch: TransitionPatch = {},
    options: WithLockOptions = {},
  ): Promise<SandboxRecord> {
    const { options: optionChanges, ...fields } = patch;
    return this.updateRecord(
      name,
      (current) => ({
        ...fields,
        status,
        // A field set to undefined disappears when the record is written (JSON).
        ...(optionChanges !== undefined && {
          options: { ...current.options, ...optionChanges } as StoredOptions,
        }),
      }),
      options,
    );
  }

  /** @throws SandboxNotFoundError, SandboxBusyError */
  async removeRecord(name: string, options: WithLockOptions = {}): Promise<void> {
    validateSandboxName(name);
    await this.withLock(
      name,
      async () => {
        if (!(await unlinkIfExists(this.recordPath(name)))) throw new SandboxNotFoundError(name);
        await syncFolder(this.sandboxesDir);
      },
      options,
    );
  }

  /**
   * Every record, sorted by name. Files that are not ours (temporary files,
   * other names) are skipped; a record file that cannot be read throws
   * `StateCorruptError` unless `skipCorrupt`, which passes it to `onCorrupt`.
   */
  async listRecords(
    options: { skipCorrupt?: boolean; onCorrupt?: (err: StateCorruptError) => void } = {},
  ): Promise<SandboxRecord[]> {
    let entries: string[];
    try {
      entries = await readdir(this.sandboxesDir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    const names = entries
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length))
      .filter(isSandboxName)
      .sort();
    const records: SandboxRecord[] = [];
    for (const name of names) {
      try {
        const record = await this.findRecord(name);
        if (record) records.push(record); // else removed since readdir
      } catch (err) {
        if (!(err instanceof StateCorruptError) || !options.skipCorrupt) throw err;
        options.onCorrupt?.(err);
      }
    }
    return records;
  }

  /**
   * Temporary files that writers which died mid-write left in the store (a file
   * whose writer is still alive is not listed).
   */
  async temporaryFiles(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.sandboxesDir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    return entries
      .filter((file) => {
        const pid = tempFileWriterPid(file);
        return pid !== undefined && !processAlive(pid);
      })
      .map((file) => join(this.sandboxesDir, file));
  }

  /**
   * Removes the {@link temporaryFiles} of dead writers. Returns the paths removed.
   */
  async sweepTemporaryFiles(): Promise<string[]> {
    const removed: string[] = [];
    for (const path of await this.temporaryFiles()) {
      if (await unlinkIfExists(path)) removed.push(path);
    }
    return removed;
  }

  private async write(record: SandboxRecord): Promise<void> {
    await mkdir(this.sandboxesDir, { recursive: true });
    const text = `${JSON.stringify({ version: STATE_FORMAT_VERSION, record }, null, 2)}\n`;
    await writeFileAtomic(this.recordPath(record.name), text);
  }
}

function parseRecordFile(path: string, text: string): SandboxRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new StateCorruptError(path, 'it is not JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || !('version' in parsed) || !('record' in parsed)) {
    throw new StateCorruptError(path, 'it is not a sandbox record file');
  }
  if (parsed.version !== STATE_FORMAT_VERSION) {
    throw new StateCorruptError(
      path,
      `its format version is ${JSON.stringify(parsed.version)}; this hcs-sandbox reads ${STATE_FORMAT_VERSION} (a newer version wrote it?)`,
    );
  }
  try {
    return checkRecord(parsed.record);
  } catch (cause) {
    const detail = cause instanceof InvalidArgumentError ? cause.message : String(cause);
    throw new StateCorruptError(path, `its record is invalid: ${detail}`, { cause });
  }
}

/** Windows paths compare without regard to case. */
function samePath(a: string, b: string): boolean {
  return process.platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b;
}
