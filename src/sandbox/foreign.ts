import { DEFAULT_OWNER } from '../schema/index.js';
import { driverFor, type LiveSandbox } from './drivers/index.js';
import { NotOwnedError, SandboxNotFoundError } from './errors.js';
import { reconcile } from './info.js';
import type { SandboxRecord } from './record.js';

/** Every compute system hcs-sandbox creates has an id with this prefix (and our Owner). */
export const SYSTEM_ID_PREFIX = 'hcssb-';

/**
 * A compute system no sandbox record knows, opened by id: ours (a leak from a
 * crash) or, with `force`, anyone's. It gets a stand-in record that is never
 * stored; only stop, kill and remove (terminate) make sense on it.
 */
export async function openForeignSystem(
  id: string,
  force: boolean,
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
  const ours = props.Owner === DEFAULT_OWNER && id.startsWith(SYSTEM_ID_PREFIX);
  if (!ours && !force) {
    await live.close();
    throw new NotOwnedError(id, props.Owner);
  }
  const record: SandboxRecord = {
    ...stub,
    ...(props.Owner !== undefined && { options: { owner: props.Owner } }),
    status: reconcile(stub, props.State),
  };
  return { record, live };
}
