import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ComputeSystem, enumerateComputeSystems, HcsError, HcsUnavailableError } from '../hcs/index.js';
import { processAlive } from '../internal/file-lock.js';
import { gcNetworks } from '../network/index.js';
import { DEFAULT_OWNER } from '../schema/index.js';
import { defaultBlobCacheDir, destroyScratchLayer, secureStoreRoot } from '../storage/index.js';
import { driverFor } from './drivers/index.js';
import { SandboxBusyError, StateCorruptError } from './errors.js';
import { SYSTEM_ID_PREFIX, sandboxNameOfSystemId } from './foreign.js';
import { findLeftovers, LEFTOVER_GRACE_MS } from './gc-leftovers.js';
import { isSandboxName, type SandboxRecord, StateStore } from './state-store.js';
import { readStoreId, STORE_ID_FILE } from './store-id.js';

/** One thing garbage collection found (and, unless a dry run, removed). */
export interface GcAction {
  kind:
    | 'compute-system'
    | 'state-record'
    | 'writable-layer'
    | 'network-endpoint'
    | 'network-namespace'
    | 'temporary-file'
    | 'partial-download'
    | 'temporary-folder';
  target: string;
  reason: string;
  /** False on a dry run, when removing failed (`error` says why), or when `leftAlone`. */
  removed: boolean;
  error?: string;
  /** Found but deliberately not removed (another hcs-sandbox store's): a report, not a failure. */
  leftAlone?: true;
}

export interface GcOptions {
  /** State root (default `%ProgramData%\hcs-sandbox`, or `HCS_SANDBOX_HOME`). */
  home?: string;
  /** Report only. */
  dryRun?: boolean;
  /** The Owner our compute systems carry (default `hcs-sandbox`). */
  owner?: string;
  /**
   * Milliseconds a leftover that names no process (a partial download, an old
   * work folder) must have been untouched before it is swept (default 1 hour).
   */
  graceMs?: number;
  /** The blob cache whose partial downloads are swept (default `<home>\blobs`, the one `pullImage` uses). */
  cacheDir?: string;
}

function isAlive(pid: number | undefined): boolean {
  return pid !== undefined && processAlive(pid);
}

/** How long gc waits for a sandbox another process holds: one in use is not garbage, it is skipped. */
const GC_LOCK_WAIT_MS = 2_000;

/** Why a record is garbage, or `undefined` when it is not (judged with the creator's liveness now). */
function garbageReason(record: SandboxRecord, live: ReadonlySet<string>): string | undefined {
  if (isAlive(record.ownerPid) || live.has(record.id)) return undefined;
  if (!record.persistent) return `ephemeral, its creator (pid ${record.ownerPid ?? '?'}) is gone`;
  if (record.status === 'creating' || record.status === 'removing') return `left ${record.status}`;
  return undefined;
}

/**
 * Finds what a crash left behind and removes it: compute systems of this
 * store (our Owner, and an id carrying this store's id, store-id.ts) that no
 * record knows, records of ephemeral sandboxes whose creator died (their
 * system went with it), and writable layers no record uses; then the
 * temporary files, partial downloads and work folders killed processes left
 * (gc-leftovers.ts). Never touches a compute system that is not ours; those
 * of another hcs-sandbox store are reported as left alone.
 *
 * Races with other processes: every removal is judged again under the
 * sandbox's lock (a sandbox busy in another process is skipped), and a
 * record is always written before its compute system or writable layer is
 * made, so a create in progress is never taken for a leftover.
 */
export async function collectGarbage(options: GcOptions = {}): Promise<GcAction[]> {
  const store = new StateStore(options.home === undefined ? {} : { root: options.home });
  // gc destroys what the store's records and folders name: only in a root no one else controls.
  await secureStoreRoot(store.root);
  const owner = options.owner ?? DEFAULT_OWNER;
  const actions: GcAction[] = [];
  const act = async (action: Omit<GcAction, 'removed'>, remove: () => Promise<void>) => {
    if (options.dryRun) return actions.push({ ...action, removed: false });
    try {
      await remove();
      actions.push({ ...action, removed: true });
    } catch (error) {
      actions.push({ ...action, removed: false, error: (error as Error).message });
    }
  };
  /** Runs `fn` holding the sandbox's lock (a dry run takes none); a sandbox busy elsewhere is skipped. */
  const underLock = async (name: string, fn: () => Promise<void>) => {
    if (options.dryRun) return fn();
    try {
      await store.withLock(name, fn, { timeoutMs: GC_LOCK_WAIT_MS });
    } catch (error) {
      if (!(error instanceof SandboxBusyError)) throw error;
    }
  };
  /** The record of `name` now; an unreadable one counts as a record (nothing of it is destroyed). */
  const recordNow = (name: string) =>
    store.findRecord(name).catch((error: unknown) => {
      if (error instanceof StateCorruptError) return 'corrupt' as const;
      throw error;
    });

  let storeId: string | undefined;
  try {
    storeId = await readStoreId(store.root);
  } catch (error) {
    if (!(error instanceof StateCorruptError)) throw error;
    // No system is judged ours by its id then; the user must repair or remove the file.
    const target = join(store.root, STORE_ID_FILE);
    const reason = 'the store id is unreadable: no compute system known to no record was touched';
    actions.push({ kind: 'state-record', target, reason, removed: false, error: error.message });
  }

  // Systems before records: a record is written before its compute system is made, so
  // every system listed here that a create or start made has its record in the listing after.
  const systems = await enumerateComputeSystems({ Owners: [owner] });
  const records = await store.listRecords({ skipCorrupt: true });
  const live = new Set(systems.map((s) => s.Id));

  // 1. Compute systems of this store that no record knows (a create that crashed half-way).
  const known = new Set(records.flatMap(systemIdsOf));
  for (const system of systems) {
    if (!system.Id.startsWith(SYSTEM_ID_PREFIX) || known.has(system.Id)) continue;
    const name = sandboxNameOfSystemId(system.Id, storeId);
    if (name === undefined || !isSandboxName(name)) {
      actions.push({
        kind: 'compute-system',
        target: system.Id,
        reason: 'of another hcs-sandbox store (or an older version), known to no sandbox here: left alone',
        removed: false,
        leftAlone: true,
      });
      continue;
    }
    await underLock(name, async () => {
      const record = await recordNow(name);
      if (record === 'corrupt' || (record && systemIdsOf(record).includes(system.Id))) return;
      await act(
        {
          kind: 'compute-system',
          target: system.Id,
          reason: 'of this hcs-sandbox store, known to no sandbox',
        },
        () => terminate(system.Id),
      );
    });
  }

  // 2. Ephemeral sandboxes whose creator is gone (their compute system died with it), and
  //    creates or removals a crash interrupted.
  for (const listed of records) {
    if (garbageReason(listed, live) === undefined) continue;
    await underLock(listed.name, async () => {
      const record = await recordNow(listed.name);
      // Changed since the listing (started, stopped, removed...): in use; the next gc judges it again.
      if (record === undefined || record === 'corrupt' || record.updatedAt !== listed.updatedAt) return;
      const why = garbageReason(record, live);
      if (why !== undefined) await removeRecordAndLayer(store, record, why, actions, act);
    });
  }

  // 3. Network endpoints and namespaces of this store that no sandbox uses (never anyone else's).
  if (!options.dryRun) {
    const hasRecord = async (sandboxId: string) =>
      (await store.listRecords({ skipCorrupt: true })).some((r) => systemIdsOf(r).includes(sandboxId));
    const leave = async (sandboxId: string) =>
      sandboxNameOfSystemId(sandboxId, storeId) === undefined || (await hasRecord(sandboxId));
    const ids = (await store.listRecords({ skipCorrupt: true })).map((r) => r.id);
    await collectNetworks(ids, leave, actions);
  }

  // 4. Writable layers no sandbox record uses. A create writes its record before it makes
  //    the folder, and rm removes the folder before the record: a folder with a record is never garbage.
  const scratchRoot = join(store.root, 'scratch');
  const named = new Set(
    (await store.listRecords({ skipCorrupt: true })).flatMap((r) =>
      r.scratchDir ? [resolve(r.scratchDir)] : [],
    ),
  );
  for (const entry of await readdir(scratchRoot).catch(() => [] as string[])) {
    const dir = join(scratchRoot, entry);
    if (named.has(dir) || actions.some((a) => a.target === dir)) continue;
    const sweep = () =>
      act({ kind: 'writable-layer', target: dir, reason: 'used by no sandbox' }, () =>
        destroyScratchLayer(dir),
      );
    // Windows paths ignore case: <root>\scratch\Box is the folder of sandbox box.
    const name = process.platform === 'win32' ? entry.toLowerCase() : entry;
    if (!isSandboxName(name)) {
      await sweep(); // no record can have it
      continue;
    }
    await underLock(name, async () => {
      if ((await recordNow(name)) === undefined) await sweep();
    });
  }

  // 5. Temporary files, partial downloads and work folders of processes that are gone.
  const leftovers = await findLeftovers({
    root: store.root,
    store,
    cacheDir: options.cacheDir ?? defaultBlobCacheDir(store.root),
    graceMs: options.graceMs ?? LEFTOVER_GRACE_MS,
  });
  for (const { remove, ...action } of leftovers) await act(action, remove);
  return actions;
}

/** The compute systems a record accounts for: its own and its utility VM's (recorded or not yet). */
function systemIdsOf(record: SandboxRecord): string[] {
  return [record.id, record.uvmId ?? `${record.id}-uvm`];
}

type Act = (action: Omit<GcAction, 'removed'>, remove: () => Promise<void>) => Promise<unknown>;

/** Removes a record judged garbage, and its writable layer (only ever `<root>\scratch\<name>`). */
async function removeRecordAndLayer(
  store: StateStore,
  record: SandboxRecord,
  why: string,
  actions: GcAction[],
  act: Act,
): Promise<void> {
  let dir: string | undefined;
  try {
    dir = store.scratchDirOf(record);
  } catch (error) {
    // A record naming a folder outside <root>\scratch (planted?): destroy nothing, keep the record.
    actions.push({
      kind: 'writable-layer',
      target: record.scratchDir ?? '?',
      reason: `of sandbox ${record.name}, ${why}`,
      removed: false,
      error: (error as Error).message,
    });
    return;
  }
  if (dir) {
    const scratch = dir;
    // Its driver knows what its folder holds (a VM's disk and state files, and a grant on its image).
    await act({ kind: 'writable-layer', target: dir, reason: `of sandbox ${record.name}, ${why}` }, () =>
      driverFor(record.isolation).teardown(record, scratch),
    );
  }
  await act({ kind: 'state-record', target: record.name, reason: why }, () =>
    store.removeRecord(record.name),
  );
}

/** Step 3 of gc: our endpoints and namespaces no sandbox uses, as gc actions. */
async function collectNetworks(
  liveIds: string[],
  leave: (sandboxId: string) => Promise<boolean>,
  actions: GcAction[],
): Promise<void> {
  const reason = 'owned by this hcs-sandbox store, used by no sandbox';
  try {
    const report = await gcNetworks(liveIds, { leave });
    for (const target of report.removedEndpoints) {
      actions.push({ kind: 'network-endpoint', target, reason, removed: true });
    }
    for (const target of report.removedNamespaces) {
      actions.push({ kind: 'network-namespace', target, reason, removed: true });
    }
    for (const error of report.errors) {
      actions.push({
        kind: 'network-endpoint',
        target: '?',
        reason: 'network cleanup',
        removed: false,
        error,
      });
    }
  } catch (error) {
    if (!(error instanceof HcsUnavailableError)) throw error; // no HCN on this host: nothing of ours there
  }
}

async function terminate(id: string): Promise<void> {
  let system: ComputeSystem;
  try {
    system = await ComputeSystem.open(id);
  } catch (error) {
    if (error instanceof HcsError && error.isNotFound()) return;
    throw error;
  }
  await system.terminate().catch(() => undefined);
  await system.close();
}
