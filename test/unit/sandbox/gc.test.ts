import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  collectGarbage,
  type SandboxStatus,
  StateCorruptError,
  StateStore,
} from '../../../src/sandbox/index.js';
import { storeIdOf } from '../../../src/sandbox/store-id.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

const host = useFakeSandboxHost();

/** A pid that no process has any more. */
const DEAD_PID = spawnSync(process.execPath, ['-e', '0']).pid as number;

const OURS = { Owner: 'hcs-sandbox', Container: {} };

/** The id a compute system of sandbox `name` of this test's store has (the store id made on first use). */
async function ourId(name: string, root = host.home): Promise<string> {
  return `hcssb-${await storeIdOf(root)}-${name}-123456`;
}

/** A record as a crashed or a live creator left it, with a scratch folder holding something. */
async function record(
  name: string,
  fields: {
    status?: SandboxStatus;
    persistent?: boolean;
    ownerPid?: number;
    id?: string;
    scratchDir?: string;
  } = {},
): Promise<string> {
  const scratchDir = fields.scratchDir ?? host.scratchDir(name);
  mkdirSync(scratchDir, { recursive: true });
  writeFileSync(join(scratchDir, 'sandbox.vhdx'), 'disk');
  await new StateStore({ root: host.home }).createRecord({
    name,
    id: fields.id ?? `hcssb-${name}-000000`,
    isolation: 'process',
    status: fields.status ?? 'running',
    persistent: fields.persistent ?? false,
    ...(fields.ownerPid !== undefined && { ownerPid: fields.ownerPid }),
    scratchDir,
    options: { network: 'none' },
  });
  return scratchDir;
}

/** The blob cache gc sweeps in these tests (never the shared default). */
const cacheDir = () => join(host.home, 'blobs');

function gc(dryRun = false, graceMs?: number) {
  return collectGarbage({
    home: host.home,
    dryRun,
    cacheDir: cacheDir(),
    ...(graceMs !== undefined && { graceMs }),
  });
}

const HOURS_AGO_2 = new Date(Date.now() - 2 * 60 * 60 * 1000);

/** A file (with its folders) whose mtime is `mtime` (default now). */
function leftFile(path: string, mtime?: Date): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
  if (mtime) utimesSync(path, mtime, mtime);
  return path;
}

/** A work folder under <home>/tmp holding a (half-imported) layer folder and a plain file. */
function workFolder(name: string, mtime?: Date): { dir: string; layer: string } {
  const dir = join(host.home, 'tmp', name);
  const layer = join(dir, 'layer-0');
  leftFile(join(layer, 'Files', 'a.txt'));
  leftFile(join(dir, 'blob.tar'));
  if (mtime) utimesSync(dir, mtime, mtime);
  return { dir, layer };
}

/** Leftovers of dead processes and stale downloads, and the same of live ones (which stay). */
function plantLeftovers() {
  const hex = 'c'.repeat(64);
  const swept = {
    recordTemp: leftFile(join(host.home, 'sandboxes', `.a.json.${DEAD_PID}.0badf00d.tmp`)),
    indexTemp: leftFile(join(host.home, 'images', `.index.json.${DEAD_PID}.12345678.tmp`)),
    partial: leftFile(join(cacheDir(), 'sha256', `${hex}.partial`), HOURS_AGO_2),
    killed: workFolder(`m1abc-${DEAD_PID}-0123456789ab`),
    old: workFolder('m1abc-0123456789ab', HOURS_AGO_2),
  };
  const kept = [
    leftFile(join(host.home, 'sandboxes', `.b.json.${process.pid}.0badf00d.tmp`)),
    leftFile(join(cacheDir(), 'sha256', `${'d'.repeat(64)}.partial`)),
    leftFile(join(cacheDir(), 'sha256', 'e'.repeat(64)), HOURS_AGO_2), // a verified blob
    workFolder(`m1abd-${process.pid}-0123456789ab`, HOURS_AGO_2).dir,
    workFolder('m1abe-0123456789ab').dir,
  ];
  return { swept, kept };
}

const byTarget = (a: { target: string }, b: { target: string }) => a.target.localeCompare(b.target);

describe('collectGarbage', () => {
  it('terminates a compute system of ours that no record knows', async () => {
    const lost = await ourId('lost');
    host.hcs.fake.addSystem(lost, 'Running', OURS);
    const actions = await gc();
    expect(actions).toEqual([
      {
        kind: 'compute-system',
        target: lost,
        reason: 'of this hcs-sandbox store, known to no sandbox',
        removed: true,
      },
    ]);
    expect(host.hcs.fake.system(lost).state).toBe('Stopped');
    expect(host.hcs.fake.systemIds()).toEqual([]);
  });

  it('never touches a compute system that is not ours', async () => {
    host.hcs.fake.addSystem('docker-1', 'Running', { Owner: 'docker', Container: {} });
    // Our prefix is not enough, nor is our Owner alone.
    host.hcs.fake.addSystem('hcssb-imposter-1', 'Running', { Owner: 'someone', Container: {} });
    host.hcs.fake.addSystem('not-ours-by-name', 'Running', OURS);
    expect(await gc()).toEqual([]);
    expect(host.hcs.fake.systemIds().sort()).toEqual(['docker-1', 'hcssb-imposter-1', 'not-ours-by-name']);
    expect(host.hcs.fake.nativeCalls('HcsOpenComputeSystem')).toEqual([]);
    expect(host.hcs.fake.nativeCalls('HcsTerminateComputeSystem')).toEqual([]);
  });

  it('keeps a system a record knows', async () => {
    await record('kept', { persistent: true, id: 'hcssb-kept-1' });
    host.hcs.fake.addSystem('hcssb-kept-1', 'Running', OURS);
    expect(await gc()).toEqual([]);
    expect(host.hcs.fake.system('hcssb-kept-1').state).toBe('Running');
  });

  it('removes an ephemeral record whose creator died, with its writable layer', async () => {
    const dir = await record('orphan', { ownerPid: DEAD_PID });
    const actions = await gc();
    expect(actions).toEqual([
      expect.objectContaining({ kind: 'writable-layer', target: dir, removed: true }),
      expect.objectContaining({
        kind: 'state-record',
        target: 'orphan',
        reason: `ephemeral, its creator (pid ${DEAD_PID}) is gone`,
        removed: true,
      }),
    ]);
    expect(existsSync(host.recordPath('orphan'))).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps an ephemeral record whose system still runs, though its creator died', async () => {
    const dir = await record('alive', { ownerPid: DEAD_PID, id: 'hcssb-alive-1' });
    host.hcs.fake.addSystem('hcssb-alive-1', 'Running', OURS);
    expect(await gc()).toEqual([]);
    expect(existsSync(host.recordPath('alive'))).toBe(true);
    expect(existsSync(dir)).toBe(true);
  });

  it('keeps a create in progress (its creator is alive) with its writable layer', async () => {
    const dir = await record('busy', { status: 'creating', ownerPid: process.pid });
    expect(await gc()).toEqual([]);
    expect(existsSync(host.recordPath('busy'))).toBe(true);
    expect(existsSync(dir)).toBe(true);
  });

  it('removes a create a crash left half-way, persistent or not', async () => {
    const dir = await record('stuck', { status: 'creating', persistent: true, ownerPid: DEAD_PID });
    const actions = await gc();
    expect(actions.map((a) => [a.kind, a.target, a.reason, a.removed])).toEqual([
      ['writable-layer', dir, 'of sandbox stuck, left creating', true],
      ['state-record', 'stuck', 'left creating', true],
    ]);
    expect(existsSync(dir)).toBe(false);
  });

  it('removes a writable layer no record uses', async () => {
    await record('kept', { persistent: true });
    const stray = host.scratchDir('stray');
    mkdirSync(stray, { recursive: true });
    const actions = await gc();
    expect(actions).toEqual([
      { kind: 'writable-layer', target: stray, reason: 'used by no sandbox', removed: true },
    ]);
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(host.scratchDir('kept'))).toBe(true);
  });

  it('reports a removal that failed and carries on', async () => {
    const stray = host.scratchDir('stray');
    mkdirSync(stray, { recursive: true });
    const lost = await ourId('lost');
    host.hcs.fake.addSystem(lost, 'Running', OURS);
    host.storage.fail('HcsDestroyLayer', 0x80070005 | 0);
    const actions = await gc();
    expect(actions).toEqual([
      expect.objectContaining({ kind: 'compute-system', target: lost, removed: true }),
      expect.objectContaining({
        kind: 'writable-layer',
        target: stray,
        removed: false,
        error: expect.any(String),
      }),
    ]);
  });

  it('removes nothing on a dry run', async () => {
    const lost = await ourId('lost');
    host.hcs.fake.addSystem(lost, 'Running', OURS);
    const orphan = await record('orphan', { ownerPid: DEAD_PID });
    const stray = host.scratchDir('stray');
    mkdirSync(stray, { recursive: true });
    const actions = await gc(true);
    expect(actions.map((a) => [a.kind, a.target, a.removed])).toEqual([
      ['compute-system', lost, false],
      ['writable-layer', orphan, false],
      ['state-record', 'orphan', false],
      ['writable-layer', stray, false],
    ]);
    expect(host.hcs.fake.system(lost).state).toBe('Running');
    expect(host.hcs.fake.nativeCalls('HcsOpenComputeSystem')).toEqual([]);
    expect(existsSync(host.recordPath('orphan'))).toBe(true);
    expect(existsSync(orphan)).toBe(true);
    expect(existsSync(stray)).toBe(true);
    expect(host.storage.calls).toEqual([]);
  });

  // Issue 13 item 2: a planted record must not get a folder outside <home>/scratch destroyed.
  it('destroys no writable layer a record names outside <home>/scratch/<name>, and says so', async () => {
    const victim = join(host.home, '..', 'victim');
    const sibling = host.scratchDir('other'); // inside scratch, but not this record's
    await record('evil', { ownerPid: DEAD_PID, scratchDir: victim });
    await record('evil2', { ownerPid: DEAD_PID, status: 'creating', scratchDir: sibling });
    const actions = await gc();
    for (const [name, dir] of [
      ['evil', victim],
      ['evil2', sibling],
    ] as const) {
      expect(actions).toContainEqual({
        kind: 'writable-layer',
        target: dir,
        reason: expect.stringContaining(`of sandbox ${name}`),
        removed: false,
        error: expect.stringContaining(`is not ${host.scratchDir(name)}`),
      });
      expect(existsSync(join(dir, 'sandbox.vhdx')), dir).toBe(true);
      expect(existsSync(join(host.home, 'sandboxes', `${name}.json`)), 'record kept').toBe(true);
    }
    expect(host.storage.calls.filter((c) => c.fn === 'HcsDestroyLayer')).toEqual([]);
    const store = new StateStore({ root: host.home });
    const evil = await store.getRecord('evil');
    expect(() => store.scratchDirOf(evil)).toThrow(StateCorruptError);
  });

  // Issue 13 item 20: leftovers of killed pulls, loads and writers.
  it('sweeps temporary files, partial downloads and work folders of dead processes or past the grace period', async () => {
    const { swept, kept } = plantLeftovers();
    const actions = await gc();
    expect(actions.sort(byTarget)).toEqual(
      [
        { kind: 'temporary-file', target: swept.recordTemp, reason: 'written by a process that is gone' },
        { kind: 'temporary-file', target: swept.indexTemp, reason: 'written by a process that is gone' },
        {
          kind: 'partial-download',
          target: swept.partial,
          reason: 'interrupted download, untouched for 120 min',
        },
        {
          kind: 'temporary-folder',
          target: swept.killed.dir,
          reason: `work folder of a process that is gone (pid ${DEAD_PID})`,
        },
        { kind: 'temporary-folder', target: swept.old.dir, reason: 'work folder, untouched for 120 min' },
      ]
        .map((a) => ({ ...a, removed: true }))
        .sort(byTarget),
    );
    for (const path of [swept.recordTemp, swept.indexTemp, swept.partial, swept.killed.dir, swept.old.dir]) {
      expect(existsSync(path), path).toBe(false);
    }
    for (const path of kept) expect(existsSync(path), path).toBe(true);
    // Layer folders inside work folders go through HcsDestroyLayer, never a plain delete.
    const destroyed = host.storage.calls.filter((c) => c.fn === 'HcsDestroyLayer').map((c) => c.args[0]);
    expect(destroyed.sort()).toEqual([swept.killed.layer, swept.old.layer].sort());
  });

  it('reports leftovers without removing them on a dry run, and honours graceMs', async () => {
    const { swept, kept } = plantLeftovers();
    const dry = await gc(true);
    expect(dry.map((a) => [a.kind, a.removed])).toEqual(
      expect.arrayContaining([
        ['temporary-file', false],
        ['partial-download', false],
        ['temporary-folder', false],
      ]),
    );
    expect(dry).toHaveLength(5);
    for (const path of [swept.recordTemp, swept.partial, swept.killed.layer, ...kept]) {
      expect(existsSync(path), path).toBe(true);
    }
    expect(host.storage.calls).toEqual([]);
    // With no grace period, the fresh partial download and old-style work folder go too;
    // the live process's files and folder never do.
    const all = await gc(false, 0);
    expect(all).toHaveLength(7);
    expect(existsSync(kept[0] as string)).toBe(true);
    expect(existsSync(kept[3] as string)).toBe(true);
    expect(existsSync(kept[1] as string)).toBe(false);
    expect(existsSync(kept[4] as string)).toBe(false);
  });
});
