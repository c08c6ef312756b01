import { enumerateComputeSystems } from '../hcs/service.js';
import { infoOf, ownersOf, reconcile, type SandboxInfo } from './info.js';
import type { SandboxStatus } from './record.js';
import { StateStore } from './state-store.js';

/**
 * `Sandbox.list` on its own: the state store and HCS's enumeration, nothing
 * of the rest of the sandbox layer (drivers, images, view, commands). Why a
 * module of its own (issue 16, cold start): the CLI's `ls` imports only this
 * (src/cli/sdk-list-entries.ts), so the bundle puts it in a chunk that does
 * not hold the SDK. Its imports name modules, not a layer's index.ts, for the
 * same reason: an index would drag its whole layer in.
 */

export interface ListFilter {
  status?: SandboxStatus;
  home?: string;
}

/** The state store at `home`, or the default one. */
export function storeAt(home: string | undefined): StateStore {
  return new StateStore(home === undefined ? {} : { root: home });
}

/**
 * Every sandbox in the store, with its status reconciled against HCS (the
 * truth for what runs): a record whose compute system is gone is `stopped`.
 */
export async function listSandboxes(filter: ListFilter = {}): Promise<SandboxInfo[]> {
  const store = storeAt(filter.home);
  const records = await store.listRecords({ skipCorrupt: true });
  const live = new Map(
    (await enumerateComputeSystems({ Owners: ownersOf(records) })).map((s) => [s.Id, s.State]),
  );
  const infos: SandboxInfo[] = [];
  for (const record of records) {
    const status = reconcile(record, live.get(record.id));
    if (status !== record.status && record.status !== 'creating' && record.status !== 'removing') {
      await store.updateRecord(record.name, { status }).catch(() => undefined);
    }
    if (filter.status && status !== filter.status) continue;
    infos.push(await infoOf({ ...record, status }));
  }
  return infos;
}
