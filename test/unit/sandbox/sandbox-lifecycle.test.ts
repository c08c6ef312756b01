import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  NotOwnedError,
  Sandbox,
  SandboxNotFoundError,
  SandboxNotRunningError,
  SandboxRunningError,
  type SandboxStatus,
  StateCorruptError,
  StateStore,
} from '../../../src/sandbox/index.js';
import { storeIdOf } from '../../../src/sandbox/store-id.js';
import { VmImageNotFoundError } from '../../../src/storage/index.js';
import { rejectionOf } from '../../support/fake-harness.js';
import { useFakeSandboxHost, windowsPath } from '../../support/fake-sandbox-host.js';

// The schema builders take Windows host paths; the temporary home here is POSIX.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();

type Isolation = 'process' | 'hyperv';

async function create(isolation: Isolation, extra: Record<string, unknown> = {}): Promise<Sandbox> {
  const image = await host.seedImage({ utilityVm: isolation === 'hyperv' });
  return Sandbox.create({
    image,
    isolation,
    name: 'sb1',
    home: host.home,
    network: 'none',
    scratchSizeGB: 1,
    ...extra,
  });
}

function status(name = 'sb1'): SandboxStatus {
  return JSON.parse(readFileSync(host.recordPath(name), 'utf8')).record.status;
}

/** The statuses the store was asked to write, in order. */
function watchStatuses(): SandboxStatus[] {
  const seen: SandboxStatus[] = [];
  const createRecord = StateStore.prototype.createRecord;
  const transition = StateStore.prototype.transition;
  vi.spyOn(StateStore.prototype, 'createRecord').mockImplementation(function (this: StateStore, record, o) {
    seen.push(record.status);
    return createRecord.call(this, record, o);
  });
  vi.spyOn(StateStore.prototype, 'transition').mockImplementation(function (this: StateStore, name, s, p, o) {
    seen.push(s);
    return transition.call(this, name, s, p, o);
  });
  return seen;
}

function createdIds(): string[] {
  return host.hcs.fake.nativeCalls('HcsCreateComputeSystem').map((c) => String(c.args[0]));
}

describe('Sandbox.create', () => {
  it('process: one container over the image layers and the mounted writable layer', async () => {
    const statuses = watchStatuses();
    const sandbox = await create('process');
    expect(statuses).toEqual(['creating', 'created', 'running']);
    expect(status()).toBe('running');
    // Issue 13 item 4: the store's id in the system id, so gc of another store leaves it alone.
    const storeId = readFileSync(join(host.home, 'store-id'), 'utf8').trim();
    expect(storeId).toMatch(/^[0-9a-f]{8}$/);
    expect(sandbox.id).toMatch(new RegExp(`^hcssb-${storeId}-sb1-[0-9a-f]{6}$`));
    expect(createdIds()).toEqual([sandbox.id]);

    const record = JSON.parse(readFileSync(host.recordPath('sb1'), 'utf8')).record;
    const system = host.hcs.fake.system(sandbox.id);
    expect(system.state).toBe('Running');
    expect(system.owner).toBe('hcs-sandbox');
    expect(system.configuration).toMatchObject({
      Owner: 'hcs-sandbox',
      ShouldTerminateOnLastHandleClosed: true, // ephemeral: dies with its creator
      Container: {
        Storage: {
          Layers: [{ Id: record.layers[0].id, Path: windowsPath(record.layers[0].path) }],
          Path: windowsPath(record.volumePath), // the volume path keeps its trailing separator
        },
      },
    });
    expect(record.scratchDir).toBe(host.scratchDir('sb1'));
    expect(host.storage.ledger().attachedFilters).toEqual([record.volumePath]);
    await sandbox.remove();
  });

  it('process: start after create in the same process uses the layer this process mounted', async () => {
    const sandbox = await create('process', { start: false });
    const record = JSON.parse(readFileSync(host.recordPath('sb1'), 'utf8')).record;
    // A volume path a stat cannot see (on a real host, `\\?\Volume{GUID}` without
    // its backslash): the layer is still mounted here, so start must not mount it again.
    rmSync(record.volumePath, { recursive: true });
    await sandbox.start();
    expect(host.storage.sequence().filter((f) => f === 'OpenVirtualDisk')).toEqual([]);
    expect(host.storage.ledger().attachedFilters).toEqual([record.volumePath]);
    await sandbox.remove();
  });

  it('hyperv: the utility VM is created, started and prepared before the container', async () => {
    const statuses = watchStatuses();
    const sandbox = await create('hyperv');
    expect(statuses).toEqual(['creating', 'created', 'running']);
    const uvmId = `${sandbox.id}-uvm`;
    expect(createdIds()).toEqual([uvmId, sandbox.id]);
    const order = host.hcs.fake
      .nativeCalls()
      .map((c) => c.fn)
      .filter((fn) =>
        ['HcsCreateComputeSystem', 'HcsStartComputeSystem', 'HcsModifyComputeSystem'].includes(fn),
      );
    expect(order).toEqual([
      'HcsCreateComputeSystem',
      'HcsStartComputeSystem',
      'HcsModifyComputeSystem',
      'HcsModifyComputeSystem',
      'HcsModifyComputeSystem',
      'HcsCreateComputeSystem',
      'HcsStartComputeSystem',
    ]);
    const uvm = host.hcs.fake.system(uvmId);
    expect(uvm.configuration).toHaveProperty('VirtualMachine');
    expect(uvm.state).toBe('Running');
    // The layer share, the container's scratch disk, then the layers combined in the guest.
    expect(uvm.modifications).toEqual([
      expect.objectContaining({ ResourcePath: 'VirtualMachine/Devices/VirtualSmb/Shares' }),
      expect.objectContaining({ ResourcePath: expect.stringMatching(/^VirtualMachine\/Devices\/Scsi\//) }),
      { GuestRequest: expect.objectContaining({ ResourceType: 'CombinedLayers' }) },
    ]);
    const container = host.hcs.fake.system(sandbox.id).configuration;
    expect(container).toMatchObject({ Owner: 'hcs-sandbox', HostingSystemId: uvmId });
    expect(container).not.toHaveProperty('VirtualMachine');
    // The VM attaches the writable layer itself: nothing stays mounted on the host.
    expect(host.storage.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
    expect(existsSync(join(host.scratchDir('sb1'), 'uvm.vhdx'))).toBe(true);
    const record = JSON.parse(readFileSync(host.recordPath('sb1'), 'utf8')).record;
    expect(record.uvmId).toBe(uvmId);
    await sandbox.remove();
  });

  it("isolation 'vm' with no VM image built: a clear error before anything is created", async () => {
    const error = await rejectionOf(
      Sandbox.create({ isolation: 'vm', name: 'sb1', home: host.home, network: 'none' }),
    );
    expect(error).toBeInstanceOf(VmImageNotFoundError);
    expect((error as Error).message).toContain('vm image build');
    expect(host.hcs.fake.nativeCalls()).toEqual([]);
    expect(host.storage.calls).toEqual([]);
    expect(existsSync(host.recordPath('sb1'))).toBe(false);
  });
});

describe.each(['process', 'hyperv'] as const)('a %s sandbox', (isolation) => {
  it('runs commands through HCS processes: stdout, stderr and exit code', async () => {
    const sandbox = await create(isolation);
    host.hcs.fake.processScript = (p) => {
      p.stdout?.write('hello\r\n');
      p.stderr?.write('careful');
      host.hcs.fake.exitProcess(p.pid, 3);
    };
    const result = await sandbox.commands.run('cmd /c echo hello', { reject: false });
    expect(result).toMatchObject({ exitCode: 3, stdout: 'hello\r\n', stderr: 'careful' });
    const [process] = host.hcs.fake.processes;
    expect(process?.system.id).toBe(sandbox.id); // the container, never the utility VM
    await sandbox.remove();
  });

  it('stop, start, pause, resume and kill keep the record status in step', async () => {
    const sandbox = await create(isolation);
    await sandbox.pause();
    expect(status()).toBe('paused');
    expect(host.hcs.fake.system(sandbox.id).state).toBe('Paused');
    await sandbox.resume();
    expect(status()).toBe('running');
    await sandbox.stop({ timeoutMs: 1000 });
    expect(status()).toBe('stopped');
    expect(host.hcs.fake.systemIds()).toEqual([]);
    await sandbox.start();
    expect(status()).toBe('running');
    await sandbox.kill();
    expect(status()).toBe('stopped');
    expect(host.hcs.fake.systemIds()).toEqual([]);
    await sandbox.remove();
  });

  it('remove terminates the systems and deletes the record and the writable layer', async () => {
    const sandbox = await create(isolation);
    expect(host.hcs.fake.systemIds()).not.toEqual([]);
    await sandbox.remove();
    host.expectNothingLeft('sb1');
    await expect(Sandbox.open('sb1', { home: host.home })).rejects.toBeInstanceOf(SandboxNotFoundError);
  });

  it('refuses commands while stopped, and commit while running', async () => {
    const sandbox = await create(isolation, { start: false });
    expect(status()).toBe('created');
    const error = await rejectionOf(sandbox.commands.run('cmd /c ver'));
    expect(error).toBeInstanceOf(SandboxNotRunningError);
    expect(error).toMatchObject({ code: 'SANDBOX_NOT_RUNNING', kind: 'invalid-state', status: 'created' });
    await expect(sandbox.commands.spawn('cmd')).rejects.toBeInstanceOf(SandboxNotRunningError);
    await expect(sandbox.pause()).rejects.toBeInstanceOf(SandboxNotRunningError);
    await sandbox.start();
    const running = await rejectionOf(sandbox.commit('local/next:1'));
    expect(running).toBeInstanceOf(SandboxRunningError);
    expect(running).toMatchObject({ code: 'SANDBOX_RUNNING', kind: 'invalid-state' });
    await sandbox.remove();
  });

  it('refuses an update with two processor limits before changing anything', async () => {
    const sandbox = await create(isolation);
    const error = await rejectionOf(sandbox.update({ cpus: 1, cpuLimit: 50 }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ field: 'cpuLimit' });
    expect(host.hcs.fake.nativeCalls('HcsModifyComputeSystem').length).toBe(isolation === 'hyperv' ? 3 : 0);
    await sandbox.remove();
  });
});

describe('Sandbox.open', () => {
  it('opens a sandbox by name from its record, attached to its running system', async () => {
    const created = await create('process', { persistent: true });
    await created.close();
    const opened = await Sandbox.open('sb1', { home: host.home });
    expect(opened.id).toBe(created.id);
    await expect(opened.info()).resolves.toMatchObject({ name: 'sb1', status: 'running' });
    await opened.remove();
    host.expectNothingLeft('sb1');
  });

  it('refuses a compute system that is not ours unless forced', async () => {
    host.hcs.fake.addSystem('docker-1', 'Running', { Owner: 'docker', Container: {} });
    const error = await rejectionOf(Sandbox.open('docker-1', { home: host.home }));
    expect(error).toBeInstanceOf(NotOwnedError);
    expect(error).toMatchObject({ code: 'NOT_OWNED', systemId: 'docker-1', owner: 'docker' });
    expect(host.hcs.fake.system('docker-1').state).toBe('Running');

    const forced = await Sandbox.open('docker-1', { home: host.home, force: true });
    await expect(forced.info()).resolves.toMatchObject({ name: 'docker-1', status: 'running' });
    await forced.kill();
    expect(host.hcs.fake.systemIds()).toEqual([]);
    expect(existsSync(host.recordPath('docker-1'))).toBe(false); // nothing stored for it
  });

  it('opens a leaked system of ours (our Owner and an id of this store) without force', async () => {
    const id = `hcssb-${await storeIdOf(host.home)}-lost-abcdef`;
    host.hcs.fake.addSystem(id, 'Running', { Owner: 'hcs-sandbox', Container: {} });
    const opened = await Sandbox.open(id, { home: host.home });
    await opened.remove();
    expect(host.hcs.fake.systemIds()).toEqual([]);
  });

  // Issue 13 item 4: another store's system (or an older version's that no record here names) is not ours.
  it("refuses another store's system, and an old-style id no record names, without force", async () => {
    await storeIdOf(host.home);
    for (const id of ['hcssb-0badf00d-lost-abcdef', 'hcssb-lost-abcdef']) {
      host.hcs.fake.addSystem(id, 'Running', { Owner: 'hcs-sandbox', Container: {} });
      const error = await rejectionOf(Sandbox.open(id, { home: host.home }));
      expect(error).toBeInstanceOf(NotOwnedError);
      expect((error as Error).message).toContain('another hcs-sandbox store');
      expect(host.hcs.fake.system(id).state).toBe('Running');
    }
    const forced = await Sandbox.open('hcssb-0badf00d-lost-abcdef', { home: host.home, force: true });
    await forced.kill();
  });

  // Issue 13 item 15: open used to swallow findRecord's StateCorruptError and say "not found".
  it('reports a corrupt record as corrupt, with its path, not as missing', async () => {
    await create('process', { start: false });
    writeFileSync(host.recordPath('sb1'), '{ not json');
    const error = await rejectionOf(Sandbox.open('sb1', { home: host.home }));
    expect(error).toBeInstanceOf(StateCorruptError);
    expect(error).toMatchObject({ code: 'STATE_CORRUPT', path: host.recordPath('sb1') });
  });

  it('still opens by compute system id (not a sandbox name) through the records', async () => {
    const sb = await create('process', { start: false });
    const opened = await Sandbox.open(sb.id, { home: host.home });
    expect(opened.name).toBe('sb1');
  });
});

// Issue 13 item 2: a record names its writable layer, and rm destroys it; a
// planted record must not get a folder outside <home>/scratch destroyed.
describe('Sandbox.remove with a planted record', () => {
  it.each(['process', 'hyperv'] as const)(
    '%s: refuses a writable layer other than <home>/scratch/<name> and destroys nothing',
    async (isolation) => {
      const sandbox = await create(isolation, { start: false });
      const victim = join(host.home, '..', 'victim');
      mkdirSync(victim);
      writeFileSync(join(victim, 'precious.txt'), 'keep me');
      const original = readFileSync(host.recordPath('sb1'), 'utf8');
      const planted = JSON.parse(original);
      planted.record.scratchDir = victim;
      writeFileSync(host.recordPath('sb1'), JSON.stringify(planted));

      const opened = await Sandbox.open('sb1', { home: host.home });
      // start would mount or boot the planted folder's disks: refused before anything is attached.
      const attachesBefore = host.storage.calls.filter((c) => c.fn === 'AttachVirtualDisk').length;
      expect(await rejectionOf(opened.start())).toBeInstanceOf(StateCorruptError);
      expect(host.storage.calls.filter((c) => c.fn === 'AttachVirtualDisk').length).toBe(attachesBefore);
      const error = await rejectionOf(opened.remove());
      expect(error).toBeInstanceOf(StateCorruptError);
      expect(error).toMatchObject({ code: 'STATE_CORRUPT', path: host.recordPath('sb1') });
      expect(readFileSync(join(victim, 'precious.txt'), 'utf8')).toBe('keep me');
      expect(host.storage.calls.filter((c) => c.fn === 'HcsDestroyLayer')).toEqual([]);
      expect(status()).toBe('created'); // refused before anything changed

      writeFileSync(host.recordPath('sb1'), original);
      await sandbox.remove();
      host.expectNothingLeft('sb1');
    },
  );
});
