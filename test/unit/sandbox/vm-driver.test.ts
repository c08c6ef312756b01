import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { type HcnApi, setNetworkBindings } from '../../../src/native/index.js';
import { HcnClient } from '../../../src/network/index.js';
import { vmDriver } from '../../../src/sandbox/drivers/vm.js';
import {
  GuestAgentRequiredError,
  Sandbox,
  type SandboxOptions,
  type SandboxRecord,
} from '../../../src/sandbox/index.js';
import { AGENT_SERVICE_ID, videoMonitorPipePath } from '../../../src/schema/index.js';
import { RollbackError, VmImageNotFoundError, VmImageStore } from '../../../src/storage/index.js';
import { type FakeBehaviour, type FakeFunctionName, FakeHr } from '../../support/fake-computecore.js';
import { FAKE_USER_SID } from '../../support/fake-file-security.js';
import { rejectionOf } from '../../support/fake-harness.js';
import { useFakeSandboxHost, windowsPath } from '../../support/fake-sandbox-host.js';
import { HCN_ENDPOINT } from '../schema/fixtures/hcsshim-uvm-network.js';

// Issue 14: the VM isolation driver against the fake host.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();

afterEach(() => setNetworkBindings(undefined));

async function create(extra: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const image = await host.seedVmImage();
  return Sandbox.create({ image, isolation: 'vm', name: 'vm1', home: host.home, network: 'none', ...extra });
}

function file(name: string): string {
  return join(host.scratchDir('vm1'), name);
}

function baseDisk(): string {
  return new VmImageStore({ root: host.home }).pathsOf('win').vhdx;
}

/** The create document HCS received. */
// biome-ignore lint/suspicious/noExplicitAny: a parsed document, read field by field with toEqual
function createDocument(): Record<string, any> {
  const call = host.hcs.fake.nativeCalls('HcsCreateComputeSystem').at(-1);
  return JSON.parse(String(call?.args[1]));
}

describe('the VM driver', () => {
  it('create: a differencing OS disk over the image, empty state files, every file granted, then a disk boot', async () => {
    const sandbox = await create({ memoryMB: 4096, cpus: 2 });
    expect(host.storage.calls.filter((c) => c.fn === 'CreateVirtualDisk')).toMatchObject([
      { args: [file('os.vhdx'), { parentPath: baseDisk(), maximumSizeBytes: 0n }] },
    ]);
    expect(host.hcs.fake.nativeCalls('HcsCreateEmptyGuestStateFile').map((c) => c.args[0])).toEqual([
      file('vm.vmgs'),
    ]);
    expect(host.hcs.fake.nativeCalls('HcsCreateEmptyRuntimeStateFile').map((c) => c.args[0])).toEqual([
      file('vm.vmrs'),
    ]);
    // The whole chain and both state files, granted to this VM before its create.
    const grants = host.hcs.fake.nativeCalls('HcsGrantVmAccess');
    expect(grants.map((c) => [c.args[0], c.args[1]])).toEqual(
      [baseDisk(), file('os.vhdx'), file('vm.vmgs'), file('vm.vmrs')].map((p) => [sandbox.id, p]),
    );
    const fns = host.hcs.fake.nativeCalls().map((c) => c.fn);
    expect(fns.lastIndexOf('HcsGrantVmAccess')).toBeLessThan(fns.indexOf('HcsCreateComputeSystem'));

    const vm = createDocument().VirtualMachine;
    expect(vm.Chipset).toEqual({
      Uefi: {
        ApplySecureBootTemplate: 'Apply',
        SecureBootTemplateId: '1734c6e8-3154-4dda-ba5f-a874cc483422',
      },
    });
    expect(vm.StopOnReset).toBe(false);
    expect(vm.GuestConnection).toBeUndefined();
    expect(vm.Devices.Scsi).toEqual({
      '0': { Attachments: { '0': { Type: 'VirtualDisk', Path: windowsPath(file('os.vhdx')) } } },
    });
    expect(vm.GuestState).toEqual({
      GuestStateFilePath: windowsPath(file('vm.vmgs')),
      RuntimeStateFilePath: windowsPath(file('vm.vmrs')),
    });
    expect(Object.keys(vm.Devices.HvSocket.HvSocketConfig.ServiceTable)).toEqual([AGENT_SERVICE_ID]);
    expect(vm.ComputeTopology.Memory.SizeInMB).toBe(4096);
    expect(vm.ComputeTopology.Processor.Count).toBe(2);
    expect(vm.Devices.NetworkAdapters).toBeUndefined();
    // The console's pipe, under the name `view` opens, for this process's user and Administrators.
    expect(vm.Devices.VideoMonitor.ConnectionOptions).toEqual({
      NamedPipe: videoMonitorPipePath(sandbox.id),
      AccessSids: [FAKE_USER_SID, 'S-1-5-32-544'],
    });

    const record = JSON.parse(readFileSync(host.recordPath('vm1'), 'utf8')).record as SandboxRecord;
    expect(record).toMatchObject({ isolation: 'vm', image: 'win', status: 'running' });
    expect(record.layers).toBeUndefined();
    expect((await sandbox.info()).isolation).toBe('vm');
    await sandbox.remove();
  });

  it('stop asks the guest to shut down first; rm revokes the grant on the shared base and deletes the files', async () => {
    const sandbox = await create({ persistent: true });
    await sandbox.stop();
    const fns = host.hcs.fake.nativeCalls().map((c) => c.fn);
    expect(fns).toContain('HcsShutDownComputeSystem');
    expect(fns).not.toContain('HcsTerminateComputeSystem');
    await sandbox.start();
    expect(host.hcs.fake.systemIds()).toEqual([sandbox.id]);
    await sandbox.remove();
    expect(host.hcs.fake.nativeCalls('HcsRevokeVmAccess').map((c) => c.args)).toEqual([
      [sandbox.id, baseDisk()],
    ]);
    host.expectNothingLeft('vm1');
    expect(existsSync(baseDisk())).toBe(true);
  });

  it('stop terminates a guest that does not shut down in time', async () => {
    const sandbox = await create();
    host.hcs.fake.onNext('HcsShutDownComputeSystem', { kind: 'fail', hresult: FakeHr.HCS_E_INVALID_STATE });
    await sandbox.stop({ timeoutMs: 1000 });
    expect(host.hcs.fake.nativeCalls().map((c) => c.fn)).toContain('HcsTerminateComputeSystem');
    await sandbox.remove();
    host.expectNothingLeft('vm1');
  });

  it('commands, folders and commit say they wait for the guest agent, with no HCS call', async () => {
    const sandbox = await create();
    const before = host.hcs.fake.nativeCalls().length;
    const run = await rejectionOf(sandbox.commands.run('cmd /c ver'));
    expect(run).toBeInstanceOf(GuestAgentRequiredError);
    expect(run).toMatchObject({ code: 'GUEST_AGENT_REQUIRED', feature: 'commands' });
    expect(await rejectionOf(sandbox.commands.spawn('cmd'))).toBeInstanceOf(GuestAgentRequiredError);
    const map = await rejectionOf(sandbox.folders.map(host.home, 'C:\\data'));
    expect(map).toBeInstanceOf(GuestAgentRequiredError);
    expect(
      host.hcs.fake
        .nativeCalls()
        .slice(before)
        .map((c) => c.fn),
    ).not.toContain('HcsCreateProcess');
    await sandbox.stop();
    expect(String(await rejectionOf(sandbox.commit('local/x:1', { home: host.home })))).toContain('VM');
    await sandbox.remove();
  });

  it('the image: the single ready one when none is named, a clear error when there are several or none', async () => {
    await host.seedVmImage('win');
    const one = await Sandbox.create({ isolation: 'vm', name: 'vm1', home: host.home, network: 'none' });
    expect((await one.info()).image).toBe('win');
    await one.remove();
    await host.seedVmImage('other');
    const several = await rejectionOf(
      Sandbox.create({ isolation: 'vm', name: 'vm2', home: host.home, network: 'none' }),
    );
    expect(several).toBeInstanceOf(InvalidArgumentError);
    expect((several as Error).message).toContain('"other", "win"');
    const missing = await rejectionOf(
      Sandbox.create({ isolation: 'vm', image: 'nope', name: 'vm3', home: host.home, network: 'none' }),
    );
    expect(missing).toBeInstanceOf(VmImageNotFoundError);
    expect(existsSync(host.recordPath('vm2'))).toBe(false);
    expect(existsSync(host.recordPath('vm3'))).toBe(false);
  });

  it('a NAT sandbox gets its HCN endpoint as the VM network adapter', async () => {
    setNetworkBindings({} as HcnApi);
    vi.spyOn(HcnClient.prototype, 'endpoint').mockResolvedValue(HCN_ENDPOINT);
    const image = await host.seedVmImage();
    const record = await createRecordOnly(image);
    const started = await vmDriver.start({ ...record, options: { ...record.options, network: 'nat' } }, {});
    expect(createDocument().VirtualMachine.Devices.NetworkAdapters).toEqual({
      [HCN_ENDPOINT.ID]: { EndpointId: HCN_ENDPOINT.ID, MacAddress: HCN_ENDPOINT.MacAddress },
    });
    await started.live.terminate();
    await Sandbox.open('vm1', { home: host.home }).then((s) => s.remove());
  });

  it('memory updates of a running VM; processors refused with the field named', async () => {
    const sandbox = await create();
    await sandbox.update({ memoryMB: 6144 });
    const modify = JSON.parse(String(host.hcs.fake.nativeCalls('HcsModifyComputeSystem').at(-1)?.args[2]));
    expect(modify).toEqual({
      ResourcePath: 'VirtualMachine/ComputeTopology/Memory/SizeInMB',
      RequestType: 'Update',
      Settings: 6144,
    });
    expect(await rejectionOf(sandbox.update({ cpus: 1 }))).toMatchObject({ field: 'cpus' });
    expect(await rejectionOf(sandbox.update({ memoryMB: 1024 }))).toMatchObject({ field: 'memoryMB' });
    await sandbox.remove();
  });
});

/** A created, not started, VM sandbox's record. */
async function createRecordOnly(image: string): Promise<SandboxRecord> {
  await Sandbox.create({
    image,
    isolation: 'vm',
    name: 'vm1',
    home: host.home,
    network: 'none',
    start: false,
  });
  return JSON.parse(readFileSync(host.recordPath('vm1'), 'utf8')).record as SandboxRecord;
}

describe('vm options refused before anything is resolved or created', () => {
  it.each<[string, Partial<SandboxOptions>]>([
    ['mappedFolders', { mappedFolders: [{ hostPath: 'C:\\in', sandboxPath: 'C:\\in' }] }],
    ['hostName', { hostName: 'box' }],
    ['network', { network: 'isolated' }],
    ['memoryMB', { memoryMB: 1024 }],
  ])('%s', async (field, extra) => {
    const error = await rejectionOf(
      Sandbox.create({
        isolation: 'vm',
        image: 'win',
        name: 'vm1',
        home: host.home,
        network: 'none',
        ...extra,
      }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ field });
    if (field === 'mappedFolders') expect((error as Error).message).toContain('guest agent');
    expect(host.hcs.fake.nativeCalls()).toEqual([]);
    expect(host.storage.calls).toEqual([]);
    expect(existsSync(host.recordPath('vm1'))).toBe(false);
  });
});

/** A native step of a VM create, and how to make it fail. */
interface Step {
  step: string;
  inject: () => void;
}

function hcsStep(fn: FakeFunctionName, nth = 1): Step {
  const failure: FakeBehaviour = { kind: 'fail', hresult: FakeHr.HCS_E_INVALID_STATE };
  return {
    step: nth === 1 ? fn : `${fn} #${nth}`,
    inject: () => {
      for (let i = 1; i < nth; i++) host.hcs.fake.onNext(fn, { kind: 'delay', ms: 0 });
      host.hcs.fake.onNext(fn, failure);
    },
  };
}

const STEPS: Step[] = [
  { step: 'CreateVirtualDisk', inject: () => host.storage.fail('CreateVirtualDisk', 5) },
  hcsStep('HcsCreateEmptyGuestStateFile'),
  hcsStep('HcsCreateEmptyRuntimeStateFile'),
  hcsStep('HcsGrantVmAccess', 1),
  hcsStep('HcsGrantVmAccess', 2),
  hcsStep('HcsGrantVmAccess', 3),
  hcsStep('HcsGrantVmAccess', 4),
  hcsStep('HcsCreateComputeSystem'),
  hcsStep('HcsStartComputeSystem'),
];

describe('Sandbox.create (vm) rolls back', () => {
  it.each(STEPS)('a failure at $step', async ({ step, inject }) => {
    const image = await host.seedVmImage();
    inject();
    const error = await rejectionOf(
      Sandbox.create({ image, isolation: 'vm', name: 'vm1', home: host.home, network: 'none' }),
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RollbackError);
    // The injected step's own failure (not a refusal before any native call).
    if (step === 'CreateVirtualDisk') expect((error as Error).message).toContain('CreateVirtualDisk');
    else expect(error).toMatchObject({ hresult: FakeHr.HCS_E_INVALID_STATE >>> 0 });
    host.expectNothingLeft('vm1');
    // Every grant made was taken back: none stays on the shared base disk.
    const granted = host.hcs.fake.nativeCalls('HcsGrantVmAccess').length;
    const failedGrant = error instanceof Error && /HcsGrantVmAccess/.test(error.message) ? 1 : 0;
    expect(host.hcs.fake.nativeCalls('HcsRevokeVmAccess')).toHaveLength(granted - failedGrant);
    expect(existsSync(baseDisk())).toBe(true);
  });
});
