import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type HcnApi, setNetworkBindings } from '../../../src/native/index.js';
import { HcnClient } from '../../../src/network/index.js';
import { hypervDriver } from '../../../src/sandbox/drivers/hyperv.js';
import { Sandbox, type SandboxRecord } from '../../../src/sandbox/index.js';
import { UVM_SCSI_CONTROLLER } from '../../../src/schema/index.js';
import { useFakeSandboxHost, windowsPath } from '../../support/fake-sandbox-host.js';
import { HCN_ENDPOINT, HCN_NAMESPACE } from '../schema/fixtures/hcsshim-uvm-network.js';

// Issue 12 items 5, 6 and 12: what the Hyper-V driver sends, and in which order.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();

async function create(start = true): Promise<Sandbox> {
  const image = await host.seedImage({ utilityVm: true });
  return Sandbox.create({ image, isolation: 'hyperv', name: 'hv', home: host.home, network: 'none', start });
}

/** The HCS calls that matter here, as short labels in call order. */
function timeline(): string[] {
  return host.hcs.fake.nativeCalls().flatMap((c) => {
    if (c.fn === 'HcsGrantVmAccess') return [`grant ${c.args[0]} ${String(c.args[1]).split('\\').at(-1)}`];
    if (c.fn === 'HcsCreateComputeSystem') return [`create ${c.args[0]}`];
    if (c.fn === 'HcsStartComputeSystem') return ['start'];
    if (c.fn !== 'HcsModifyComputeSystem') return [];
    const r = JSON.parse(String(c.args[2]));
    const guest = r.GuestRequest;
    const what = r.ResourcePath
      ? r.ResourcePath.replace(/\/[0-9a-f-]{36}(\/|$)/, '/{id}$1')
      : `guest ${guest.ResourceType}${guest.Settings?.RequestType ? ` ${guest.Settings.RequestType}` : ''}`;
    return [`modify ${what}`];
  });
}

afterEach(() => setNetworkBindings(undefined));

describe('the Hyper-V driver', () => {
  it('grants each disk to the utility VM before the create or hot-add that attaches it', async () => {
    const sandbox = await create();
    const uvm = `${sandbox.id}-uvm`;
    expect(timeline()).toEqual([
      `grant ${uvm} uvm.vhdx`,
      `create ${uvm}`,
      'start',
      'modify VirtualMachine/Devices/VirtualSmb/Shares',
      `grant ${uvm} sandbox.vhdx`,
      'modify VirtualMachine/Devices/Scsi/{id}/Attachments/1',
      'modify guest CombinedLayers',
      `create ${sandbox.id}`,
      'start',
    ]);
    const paths = host.hcs.fake.nativeCalls('HcsGrantVmAccess').map((c) => c.args[1]);
    expect(paths).toEqual([
      windowsPath(join(host.scratchDir('hv'), 'uvm.vhdx')),
      windowsPath(join(host.scratchDir('hv'), 'sandbox.vhdx')),
    ]);
    await sandbox.remove();
  });

  it('adds the network namespace and the endpoint as a NIC after the VM starts, before the container', async () => {
    const sandbox = await create(false);
    setNetworkBindings({} as HcnApi); // no HCN call reaches it: the two reads below are stubbed
    const namespace = vi.spyOn(HcnClient.prototype, 'namespace').mockResolvedValue(HCN_NAMESPACE);
    const endpoint = vi.spyOn(HcnClient.prototype, 'endpoint').mockResolvedValue(HCN_ENDPOINT);
    const stored = JSON.parse(readFileSync(host.recordPath('hv'), 'utf8')).record as SandboxRecord;
    const record: SandboxRecord = {
      ...stored,
      options: { ...stored.options, network: 'nat', namespaceId: HCN_NAMESPACE.ID },
    };
    const started = await hypervDriver.start(record, {});
    expect(namespace).toHaveBeenCalledWith(HCN_NAMESPACE.ID);
    expect(endpoint).toHaveBeenCalledWith(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(timeline().slice(-6)).toEqual([
      'modify guest CombinedLayers',
      'modify guest NetworkNamespace',
      'modify guest Network PreAdd',
      'modify VirtualMachine/Devices/NetworkAdapters/{id}',
      `create ${sandbox.id}`,
      'start',
    ]);
    // biome-ignore lint/suspicious/noExplicitAny: recorded JSON requests
    const modifications = host.hcs.fake.system(`${sandbox.id}-uvm`).modifications as Record<string, any>[];
    const [ns, preAdd, nic] = modifications.slice(-3);
    expect(ns?.GuestRequest.Settings).toEqual(HCN_NAMESPACE);
    expect(preAdd?.GuestRequest.Settings).toMatchObject({ RequestType: 'PreAdd', Settings: HCN_ENDPOINT });
    const nicId = preAdd?.GuestRequest.Settings.AdapterId;
    expect(nic).toEqual({
      ResourcePath: `VirtualMachine/Devices/NetworkAdapters/${nicId}`,
      RequestType: 'Add',
      Settings: { EndpointId: HCN_ENDPOINT.ID, MacAddress: HCN_ENDPOINT.MacAddress },
      GuestRequest: {
        ResourceType: 'Network',
        RequestType: 'Add',
        Settings: { AdapterId: nicId, RequestType: 'Add' },
      },
    });
    expect(host.hcs.fake.system(sandbox.id).configuration).toMatchObject({
      HostedSystem: { Container: { Networking: { Namespace: HCN_NAMESPACE.ID } } },
    });
    await started.live.terminate();
    await sandbox.remove();
  });

  // Last in the file: the driver remembers the key that worked for the rest of the process.
  it('boots the utility VM again with SCSI controller "0" when the GUID key is refused, and says so', async () => {
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((w) => {
      warnings.push(String(w));
    });
    host.hcs.fake
      .onNext('HcsModifyComputeSystem', { kind: 'delay', ms: 0 }) // the layer share
      .onNext('HcsModifyComputeSystem', { kind: 'fail', hresult: 0x80070057 }); // the scratch disk
    const sandbox = await create();
    const uvm = `${sandbox.id}-uvm`;
    const creates = host.hcs.fake.nativeCalls('HcsCreateComputeSystem');
    expect(creates.map((c) => c.args[0])).toEqual([uvm, uvm, sandbox.id]);
    const scsiKeys = creates
      .slice(0, 2)
      .map((c) => Object.keys(JSON.parse(String(c.args[1])).VirtualMachine.Devices.Scsi));
    expect(scsiKeys).toEqual([[UVM_SCSI_CONTROLLER], ['0']]);
    const grants = timeline().filter((t) => t.startsWith('grant') || t.includes('/Scsi/'));
    expect(grants).toEqual([
      `grant ${uvm} uvm.vhdx`,
      `grant ${uvm} sandbox.vhdx`,
      'modify VirtualMachine/Devices/Scsi/{id}/Attachments/1',
      `grant ${uvm} uvm.vhdx`,
      `grant ${uvm} sandbox.vhdx`,
      'modify VirtualMachine/Devices/Scsi/0/Attachments/1',
    ]);
    expect(host.hcs.fake.system(uvm).state).toBe('Running');
    expect(warnings).toEqual([expect.stringMatching(/SCSI controller df6d0690-.*use controller "0"/)]);
    await sandbox.remove();
  });
});
