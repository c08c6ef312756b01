import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readIfExists, writeFileAtomic } from '../internal/atomic-file.js';
import { withFileLock } from '../internal/file-lock.js';
import { StateCorruptError } from './errors.js';

/**
 * The store id: a random tag made once per state root (`<root>\store-id`) and
 * carried in the id of every compute system the store creates
 * (`hcssb-<store id>-<name>-<random>`, see foreign.ts). Every store uses the
 * same HCS Owner, so without it `gc` of one store (another
 * `HCS_SANDBOX_HOME`, another user's) could not tell its own leaked systems
 * from another store's live ones.
 */

export const STORE_ID_FILE = 'store-id';
const STORE_ID = /^[0-9a-f]{8}$/;
/** The lock key: a space keeps it apart from every sandbox name (file-lock.ts re-entrancy is per key). */
const LOCK_KEY = 'store id';

/** The store's id, or `undefined` when the store has none yet (it never created a compute system). */
export async function readStoreId(root: string): Promise<string | undefined> {
  const path = join(root, STORE_ID_FILE);
  const text = await readIfExists(path);
  if (text === undefined) return undefined;
  const id = text.trim();
  if (!STORE_ID.test(id)) throw new StateCorruptError(path, 'it does not hold a store id (8 hex digits)');
  return id;
}

/**
 * The store's id, made on first use. Made under a lock, and written
 * atomically, so two processes creating the first sandboxes of a store at
 * once agree on one id (a second id would make the first one's systems
 * look like another store's).
 */
export async function storeIdOf(root: string): Promise<string> {
  const existing = await readStoreId(root);
  if (existing !== undefined) return existing;
  await mkdir(root, { recursive: true });
  return withFileLock(LOCK_KEY, join(root, `${STORE_ID_FILE}.lock`), async () => {
    const again = await readStoreId(root);
    if (again !== undefined) return again;
    const id = randomBytes(4).toString('hex');
    await writeFileAtomic(join(root, STORE_ID_FILE), `${id}\n`);
    return id;
  });
}
