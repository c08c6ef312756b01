// Issue 13 items 3 and 4: gc racing other processes of its store, and gc beside other stores.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { collectGarbage, type SandboxStatus, StateStore } from '../../../src/sandbox/index.js';
import { storeIdOf } from '../../../src/sandbox/store-id.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

const host = useFakeSandboxHost();
const OURS = { Owner: 'hcs-sandbox', Container: {} };

function gc(home = host.home) {
  return collectGarbage({ home, cacheDir: join(home, 'blobs') });
}

/** What a create in another process writes first: its record (naming it and its folder), then the folder. */
async function createInProgress(
  name: string,
  fields: {
    id?: string;
    status?: SandboxStatus;
    persistent?: boolean;
    ownerPid?: number;
    home?: string;
  } = {},
): Promise<string> {
  const home = fields.home ?? host.home;
  const scratchDir = join(home, 'scratch', name);
  await new StateStore({ root: home }).createRecord({
    name,
    id: fields.id ?? `hcssb-${await storeIdOf(home)}-${name}-abcdef`,
    isolation: 'process',
    status: fields.status ?? 'creating',
    persistent: fields.persistent ?? false,
    ...(fields.ownerPid !== undefined && { ownerPid: fields.ownerPid }),
    scratchDir,
    options: { network: 'none' },
  });
  mkdirSync(scratchDir, { recursive: true });
  writeFileSync(join(scratchDir, 'sandbox.vhdx'), 'disk');
  return scratchDir;
}

/** Runs `during` once, right after gc has read the list of records (another process's step lands there). */
function afterFirstListing(during: () => Promise<void>): void {
  const listRecords = StateStore.prototype.listRecords;
  let first = true;
  vi.spyOn(StateStore.prototype, 'listRecords').mockImplementation(async function (this: StateStore, o) {
    const records = await listRecords.call(this, o);
    if (first) {
      first = false;
      await during();
    }
    return records;
  });
}

describe('gc racing a create, start or rm in another process (issue 13 item 3)', () => {
  it('never sweeps the writable layer of a create that began after gc listed the records', async () => {
    let scratch = '';
    afterFirstListing(async () => {
      scratch = await createInProgress('newborn', { ownerPid: process.pid });
    });
    expect(await gc()).toEqual([]);
    expect(existsSync(join(scratch, 'sandbox.vhdx'))).toBe(true);
    expect(existsSync(host.recordPath('newborn'))).toBe(true);
  });

  it('never terminates the compute system of a create that began after gc listed the records', async () => {
    await storeIdOf(host.home);
    let id = '';
    afterFirstListing(async () => {
      await createInProgress('quick', { ownerPid: process.pid, status: 'running' });
      id = `hcssb-${await storeIdOf(host.home)}-quick-abcdef`;
      host.hcs.fake.addSystem(id, 'Running', OURS);
    });
    expect(await gc()).toEqual([]);
    expect(host.hcs.fake.system(id).state).toBe('Running');
    expect(host.hcs.fake.nativeCalls('HcsTerminateComputeSystem')).toEqual([]);
  });

  it('waits for the lock of a sandbox being removed, and leaves its removal to the remover', async () => {
    // A persistent sandbox in rm: `removing`, no owner pid. Its remover holds the lock throughout.
    const store = new StateStore({ root: host.home });
    await createInProgress('leaving', { status: 'removing', persistent: true });
    let gcDone = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const removal = store.withLock('leaving', async () => {
      await released;
      expect(gcDone, 'gc finished while rm held the lock').toBe(false);
      rmSync(host.scratchDir('leaving'), { recursive: true }); // the remover's teardown
      await store.removeRecord('leaving');
    });
    await sleep(20); // the remover holds the lock
    const collecting = gc().then((actions) => {
      gcDone = true;
      return actions;
    });
    await sleep(200);
    release();
    await removal;
    // gc judged it after the remover was done: nothing of it was left to remove.
    expect(await collecting).toEqual([]);
    expect(host.storage.calls.filter((c) => c.fn === 'HcsDestroyLayer')).toEqual([]);
  });

  it('keeps a writable layer whose record cannot be read', async () => {
    const dir = await createInProgress('unreadable', { ownerPid: process.pid });
    writeFileSync(host.recordPath('unreadable'), '{ torn');
    expect(await gc()).toEqual([]);
    expect(existsSync(join(dir, 'sandbox.vhdx'))).toBe(true);
  });
});

describe('gc beside other hcs-sandbox stores (issue 13 item 4)', () => {
  it("leaves another store's compute systems running and reports them", async () => {
    const other = join(host.home, '..', 'other-home');
    mkdirSync(other);
    const theirs = `hcssb-${await storeIdOf(other)}-box-abcdef`;
    await createInProgress('box', { id: theirs, status: 'running', persistent: true, home: other });
    host.hcs.fake.addSystem(theirs, 'Running', OURS);
    const mine = `hcssb-${await storeIdOf(host.home)}-lost-abcdef`;
    host.hcs.fake.addSystem(mine, 'Running', OURS);
    expect(await storeIdOf(other)).not.toBe(await storeIdOf(host.home));

    const actions = await gc();
    expect(actions).toEqual([
      {
        kind: 'compute-system',
        target: theirs,
        reason: 'of another hcs-sandbox store (or an older version), known to no sandbox here: left alone',
        removed: false,
        leftAlone: true,
      },
      expect.objectContaining({ kind: 'compute-system', target: mine, removed: true }),
    ]);
    expect(host.hcs.fake.system(theirs).state).toBe('Running');
    expect(host.hcs.fake.systemIds()).toEqual([theirs]);
    // And the other store's own gc leaves it, as its record knows it.
    expect(await gc(other)).toEqual([]);
    host.hcs.fake.system(theirs).state = 'Stopped';
  });

  it('keeps an old-style id (hcssb-<name>-<random>) a record of this store names; leaves others alone', async () => {
    await createInProgress('old', { id: 'hcssb-old-abcdef', status: 'running', persistent: true });
    host.hcs.fake.addSystem('hcssb-old-abcdef', 'Running', OURS);
    host.hcs.fake.addSystem('hcssb-older-abcdef', 'Running', OURS);
    const actions = await gc();
    expect(actions.map((a) => [a.target, a.removed, a.leftAlone])).toEqual([
      ['hcssb-older-abcdef', false, true],
    ]);
    expect(host.hcs.fake.nativeCalls('HcsTerminateComputeSystem')).toEqual([]);
  });

  it('reports an unreadable store id and then terminates no system by its id', async () => {
    const mine = `hcssb-${await storeIdOf(host.home)}-lost-abcdef`;
    host.hcs.fake.addSystem(mine, 'Running', OURS);
    writeFileSync(join(host.home, 'store-id'), 'not an id');
    const actions = await gc();
    expect(actions).toEqual([
      expect.objectContaining({
        kind: 'state-record',
        target: join(host.home, 'store-id'),
        removed: false,
        error: expect.stringContaining('store id'),
      }),
      expect.objectContaining({ target: mine, leftAlone: true }),
    ]);
    expect(host.hcs.fake.system(mine).state).toBe('Running');
  });
});
