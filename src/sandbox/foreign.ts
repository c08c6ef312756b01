import { DEFAULT_OWNER } from '../schema/index.js';
import { driverFor, type LiveSandbox } from './drivers/index.js';
import { NotOwnedError, SandboxNotFoundError } from './errors.js';
import { reconcile } from './info.js';
import type { SandboxRecord } from './record.js';

/** Every compute system hcs-sandbox creates has an id with this prefix (and our Owner). */
export const SYSTEM_ID_PREFIX = 'hcssb-';

/**
 * The id of a new compute system of sandbox `name` in the store `storeId`
 * (store-id.ts): `hcssb-<store id>-<name>-<random>`. Versions before the store
 * id made `hcssb-<name>-<random>`: such a system is ours only while a record
 * of this store names it.
 */
export function newSystemId(storeId: string, name: string, random: string): string {
  return `${SYSTEM_ID_PREFIX}${storeId}-${name}-${random}`;
}

/**
 * The sandbox name in the id of a compute system (or its utility VM,
 * `<id>-uvm`) that store `storeId` created, or `undefined` when the id is not
 * of that store's making (another store's, an older version's, anyone else's).
 */
export function sandboxNameOfSystemId(id: string, storeId: string | undefined): string | undefined {
  if (storeId === undefined) return undefined;
  const match = /^(.+)-[0-9a-f]{6}(?:-uvm)?$/.exec(id.slice(`${SYSTEM_ID_PREFIX}${storeId}-`.length));
  return id.startsWith(`${SYSTEM_ID_PREFIX}${storeId}-`) && match ? match[1] : undefined;
}

/**
 * A compute system no sandbox record knows, opened by id: ours (a leak from a
 * crash: our Owner, and an id of this store's making) or, with `force`,
 * anyone's, another hcs-sandbox store's included. It gets a stand-in record that is never
 * stored; only stop, kill and remove (terminate) make sense on it.
 */
export async function openForeignSystem(
  id: string,
  force: boolean,
  storeId: string | undefined,
): Promise<{ record: SandboxRecord; live: LiveSandbox }> {
  const now = new Date().toISOString();
  const stub: SandboxRecord = {
    name: id,
    id,
    createdAt: now,
    updatedAt: now,
    options: {},
    // A bare compute system is driven like a process container: one system, no disks of ours.
    isolation: 'process',
    status: 'created',
    persistent: true,
  };
  const live = await driverFor('process').attach(stub);
  if (!live) throw new SandboxNotFoundError(id);
  const props = await live.system.properties<{ Owner?: string; State?: string }>();
  const ours = props.Owner === DEFAULT_OWNER && sandboxNameOfSystemId(id, storeId) !== undefined;
  if (!ours && !force) {
    await live.close();
    throw new NotOwnedError(id, props.Owner, id.startsWith(SYSTEM_ID_PREFIX));
  }
  const record: SandboxRecord = {
    ...stub,
    ...(props.Owner !== undefined && { options: { owner: props.Owner } }),
    status: reconcile(stub, props.State),
  };
  return { record, live };
}
