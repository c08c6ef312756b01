import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ComputeSystem, enumerateComputeSystems, HcsError, HcsUnavailableError } from '../hcs/index.js';
import { gcNetworks } from '../network/index.js';
import { DEFAULT_OWNER } from '../schema/index.js';
import { defaultBlobCacheDir, destroyScratchLayer } from '../storage/index.js';
import { driverFor } from './drivers/index.js';
import { findLeftovers, LEFTOVER_GRACE_MS } from './gc-leftovers.js';
import { SYSTEM_ID_PREFIX } from './sandbox.js';
import { type SandboxRecord, StateStore } from './state-store.js';

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
  /** False on a dry run, or when removing failed (`error` says why). */
  removed: boolean;
  error?: string;
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
  /** The blob cache whose partial downloads are swept (default: the one `pullImage` uses). */
  cacheDir?: string;
}

function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finds what a crash left behind and removes it: compute systems we own (our
 * Owner and id prefix) that no sandbox record knows, records of ephemeral
 * sandboxes whose creator died (their system went with it), and writable
 * layers no record uses; then the temporary files, partial downloads and work
 * folders killed processes left (gc-leftovers.ts). Never touches a compute
 * system that is not ours.
 */
export async function collectGarbage(options: GcOptions = {}): Promise<GcAction[]> {
  const store = new StateStore(options.home === undefined ? {} : { root: options.home });
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

  const records = await store.listRecords({ skipCorrupt: true });
  const systems = await enumerateComputeSystems({ Owners: [owner] });
  const live = new Set(systems.map((s) => s.Id));
  const known = new Set(records.flatMap((r) => [r.id, ...(r.uvmId ? [r.uvmId] : [])]));

  // 1. Our compute systems that no record knows (a create that crashed half-way).
  for (const system of systems) {
    if (!system.Id.startsWith(SYSTEM_ID_PREFIX) || known.has(system.Id)) continue;
    await act(
      { kind: 'compute-system', target: system.Id, reason: 'owned by hcs-sandbox, known to no sandbox' },
      () => terminate(system.Id),
    );
  }

  // 2. Ephemeral sandboxes whose creator is gone: their compute system died with it.
  const kept: SandboxRecord[] = [];
  for (const record of records) {
    const orphan = !record.persistent && !isAlive(record.ownerPid) && !live.has(record.id);
    const stuck =
      (record.status === 'creating' || record.status === 'removing') &&
      !isAlive(record.ownerPid) &&
      !live.has(record.id);
    if (!orphan && !stuck) {
      kept.push(record);
      continue;
    }
    const why = orphan
      ? `ephemeral, its creator (pid ${record.ownerPid ?? '?'}) is gone`
      : `left ${record.status}`;
    let dir: string | undefined;
    try {
      dir = store.scratchDirOf(record);
    } catch (error) {
      // A record naming a folder outside <root>\scratch (planted?): destroy nothing, keep the record.
      const target = record.scratchDir ?? '?';
      const reason = `of sandbox ${record.name}, ${why}`;
      actions.push({
        kind: 'writable-layer',
        target,
        reason,
        removed: false,
        error: (error as Error).message,
      });
      kept.push(record);
      continue;
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

  // 3. Network endpoints and namespaces of ours that no remaining sandbox uses (never anyone else's).
  if (!options.dryRun) {
    try {
      const report = await gcNetworks(kept.map((r) => r.id));
      for (const target of report.removedEndpoints) {
        actions.push({
          kind: 'network-endpoint',
          target,
          reason: 'owned by hcs-sandbox, used by no sandbox',
          removed: true,
        });
      }
      for (const target of report.removedNamespaces) {
        actions.push({
          kind: 'network-namespace',
          target,
          reason: 'owned by hcs-sandbox, used by no sandbox',
          removed: true,
        });
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

  // 4. Writable layers no sandbox record uses.
  const used = new Set(kept.map((r) => r.scratchDir).filter(Boolean));
  const scratchRoot = join(store.root, 'scratch');
  let dirs: string[] = [];
  try {
    dirs = await readdir(scratchRoot);
  } catch {
    dirs = [];
  }
  for (const name of dirs) {
    const dir = join(scratchRoot, name);
    if (used.has(dir) || actions.some((a) => a.target === dir)) continue;
    await act({ kind: 'writable-layer', target: dir, reason: 'used by no sandbox' }, () =>
      destroyScratchLayer(dir),
    );
  }

  // 5. Temporary files, partial downloads and work folders of processes that are gone.
  const leftovers = await findLeftovers({
    root: store.root,
    store,
    cacheDir: options.cacheDir ?? defaultBlobCacheDir(),
    graceMs: options.graceMs ?? LEFTOVER_GRACE_MS,
  });
  for (const { remove, ...action } of leftovers) await act(action, remove);
  return actions;
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
