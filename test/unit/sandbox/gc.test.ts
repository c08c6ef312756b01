import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  collectGarbage,
  type SandboxStatus,
  StateCorruptError,
  StateStore,
} from '../../../src/sandbox/index.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

const host = useFakeSandboxHost();

/** A pid that no process has any more. */
const DEAD_PID = spawnSync(process.execPath, ['-e', '0']).pid as number;

const OURS = { Owner: 'hcs-sandbox', Container: {} };

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

function gc(dryRun = false) {
  return collectGarbage({ home: host.home, dryRun });
}

describe('collectGarbage', () => {
  it('terminates a compute system of ours that no record knows', async () => {
    host.hcs.fake.addSystem('hcssb-lost-123456', 'Running', OURS);
    const actions = await gc();
    expect(actions).toEqual([
      {
        kind: 'compute-system',
        target: 'hcssb-lost-123456',
        reason: 'owned by hcs-sandbox, known to no sandbox',
        removed: true,
      },
    ]);
    expect(host.hcs.fake.system('hcssb-lost-123456').state).toBe('Stopped');
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
    host.hcs.fake.addSystem('hcssb-lost-1', 'Running', OURS);
    host.storage.fail('HcsDestroyLayer', 0x80070005 | 0);
    const actions = await gc();
    expect(actions).toEqual([
      expect.objectContaining({ kind: 'compute-system', target: 'hcssb-lost-1', removed: true }),
      expect.objectContaining({
        kind: 'writable-layer',
        target: stray,
        removed: false,
        error: expect.any(String),
      }),
    ]);
  });

  it('removes nothing on a dry run', async () => {
    host.hcs.fake.addSystem('hcssb-lost-123456', 'Running', OURS);
    const orphan = await record('orphan', { ownerPid: DEAD_PID });
    const stray = host.scratchDir('stray');
    mkdirSync(stray, { recursive: true });
    const actions = await gc(true);
    expect(actions.map((a) => [a.kind, a.target, a.removed])).toEqual([
      ['compute-system', 'hcssb-lost-123456', false],
      ['writable-layer', orphan, false],
      ['state-record', 'orphan', false],
      ['writable-layer', stray, false],
    ]);
    expect(host.hcs.fake.system('hcssb-lost-123456').state).toBe('Running');
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
});
