import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  AGENT_SERVICE_ID,
  buildDiskBootVm,
  createHcsValidator,
  type DiskBootVmOptions,
  videoMonitorAccessSids,
  videoMonitorPipePath,
} from '../../../src/schema/index.js';

const DIR = 'C:\\ProgramData\\hcs-sandbox\\scratch\\vm1';
const USER_SID = 'S-1-5-21-646084236-3208304814-2060474565-1001';
const PIPE = videoMonitorPipePath('hcssb-vm1-0a1b2c');
const base: DiskBootVmOptions = {
  osDiskPath: `${DIR}\\os.vhdx`,
  guestStateFilePath: `${DIR}\\vm.vmgs`,
  runtimeStateFilePath: `${DIR}\\vm.vmrs`,
  videoConnection: { namedPipe: PIPE, accessSids: [USER_SID] },
};
const ENDPOINT = 'd7c0c0a4-1f0e-4c8e-9d0b-2f1e3a4b5c6d';

/**
 * The fields of a disk-booted Windows VM document as two peers that boot one
 * send them (their values, reduced to the shape that matters; not their text):
 * - jamesstringer90/appsandbox `src/backend_win/hcs_vm.c` at a68665db2dfbc654a7000823af274515b4a11911
 *   (`hcs_build_vm_json`): Secure Boot template, no BootThis, VideoMonitor 1024x768 ("vmwp.exe
 *   crashes (0xC0000005) without it"), Keyboard, Mouse, OS disk at LUN 0, GuestState .vmgs/.vmrs,
 *   a ServiceTable, no GuestConnection;
 * - discobox-ai/vm `pkg/machine/hcs/config_windows.go` at 4ae4fd80e377ccb97bc123dee63e91a8312a8600
 *   (`newDocument`): the same Uefi pair, `StopOnReset: false`, SCSI controller "0", VideoMonitor,
 *   Keyboard, Mouse, GuestState, ServiceTable entries with bind/connect descriptors and wildcard binds;
 *   `videoMonitor`: `ConnectionOptions` with its own pipe name and the user's SID;
 * - M2Team/NanaBox `NanaBox/ConfigurationManager.cpp` at 9b4f9e0 (`MakeHcsConfiguration`):
 *   `VideoMonitor.ConnectionOptions` = `{NamedPipe: "\\.\pipe\<Name>.BasicSession",
 *   AccessSids: [GetCurrentProcessUserStringSid()]}`, its viewer opening that name.
 */
const PEERS = {
  appsandbox: {
    Uefi: { ApplySecureBootTemplate: 'Apply', SecureBootTemplateId: '1734c6e8-3154-4dda-ba5f-a874cc483422' },
    VideoMonitor: { HorizontalResolution: 1024, VerticalResolution: 768 },
    serviceEntryKeys: ['AllowWildcardBinds', 'BindSecurityDescriptor', 'ConnectSecurityDescriptor'],
  },
  nanaBox: {
    connectionOptionKeys: ['AccessSids', 'NamedPipe'],
    pipeSuffix: '.BasicSession',
  },
  discoVm: {
    Uefi: { ApplySecureBootTemplate: 'Apply', SecureBootTemplateId: '1734c6e8-3154-4dda-ba5f-a874cc483422' },
    StopOnReset: false,
    scsiController: '0',
    serviceEntryKeys: ['AllowWildcardBinds', 'BindSecurityDescriptor', 'ConnectSecurityDescriptor'],
  },
};

describe('buildDiskBootVm', () => {
  const validator = createHcsValidator();

  it('the disk-boot shape the peers boot Windows with, valid under the strict schema', () => {
    const doc = buildDiskBootVm(base);
    expect(validator.validate('ComputeSystem', doc).errors).toEqual([]);
    const vm = doc.VirtualMachine!;
    expect(vm.Chipset).toEqual({ Uefi: PEERS.appsandbox.Uefi });
    expect(vm.Chipset?.Uefi).toEqual(PEERS.discoVm.Uefi);
    expect(vm.Chipset?.Uefi?.BootThis).toBeUndefined();
    expect(vm.StopOnReset).toBe(PEERS.discoVm.StopOnReset);
    expect(vm.GuestConnection).toBeUndefined();
    expect(vm.Devices?.VideoMonitor).toMatchObject(PEERS.appsandbox.VideoMonitor);
    // The console's pipe and who may open it, as NanaBox and disco-vm name theirs.
    const connection = vm.Devices?.VideoMonitor?.ConnectionOptions ?? {};
    expect(Object.keys(connection).sort()).toEqual(PEERS.nanaBox.connectionOptionKeys);
    expect(connection).toEqual({ NamedPipe: PIPE, AccessSids: [USER_SID] });
    expect(connection.NamedPipe?.endsWith(PEERS.nanaBox.pipeSuffix)).toBe(true);
    expect(vm.Devices?.Keyboard).toEqual({});
    expect(vm.Devices?.Mouse).toEqual({});
    expect(vm.Devices?.Scsi).toEqual({
      [PEERS.discoVm.scsiController]: {
        Attachments: { '0': { Type: 'VirtualDisk', Path: base.osDiskPath } },
      },
    });
    expect(vm.GuestState).toEqual({
      GuestStateFilePath: base.guestStateFilePath,
      RuntimeStateFilePath: base.runtimeStateFilePath,
    });
    const table = vm.Devices?.HvSocket?.HvSocketConfig?.ServiceTable ?? {};
    expect(Object.keys(table)).toEqual([AGENT_SERVICE_ID]);
    expect(Object.keys(table[AGENT_SERVICE_ID] ?? {}).sort()).toEqual(PEERS.discoVm.serviceEntryKeys);
    expect(Object.keys(table[AGENT_SERVICE_ID] ?? {}).sort()).toEqual(PEERS.appsandbox.serviceEntryKeys);
    expect(table[AGENT_SERVICE_ID]).toEqual({
      BindSecurityDescriptor: 'D:P(A;;FA;;;SY)(A;;FA;;;BA)',
      ConnectSecurityDescriptor: 'D:P(A;;FA;;;SY)(A;;FA;;;BA)',
      AllowWildcardBinds: true,
    });
    expect(vm.ComputeTopology?.Memory).toMatchObject({ SizeInMB: 4096, AllowOvercommit: true });
    expect(doc).toMatchObject({ Owner: 'hcs-sandbox', SchemaVersion: { Major: 2, Minor: 1 } });
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('memory, processors, network adapters, resolution and services from the options, still valid', () => {
    const doc = buildDiskBootVm({
      ...base,
      owner: 'me',
      outliveCreator: true,
      memoryMB: 6001,
      processorCount: 4,
      processor: { limit: 50000 },
      networkAdapters: [{ endpointId: ENDPOINT, macAddress: '00-15-5D-12-34-56' }],
      videoMonitor: { horizontalResolution: 1920, verticalResolution: 1080 },
      hvSocketServices: { [AGENT_SERVICE_ID]: { bindSecurityDescriptor: 'D:P(A;;FA;;;WD)' } },
      host: { logicalProcessorCount: 8, memoryMB: 16384 },
    });
    expect(validator.validate('ComputeSystem', doc).errors).toEqual([]);
    const vm = doc.VirtualMachine!;
    expect(vm.ComputeTopology?.Memory?.SizeInMB).toBe(6002);
    expect(vm.ComputeTopology?.Processor).toEqual({ Count: 4, Limit: 50000 });
    expect(vm.Devices?.NetworkAdapters).toEqual({
      [ENDPOINT]: { EndpointId: ENDPOINT, MacAddress: '00-15-5D-12-34-56' },
    });
    expect(vm.Devices?.VideoMonitor).toEqual({
      HorizontalResolution: 1920,
      VerticalResolution: 1080,
      ConnectionOptions: { NamedPipe: PIPE, AccessSids: [USER_SID] },
    });
    expect(vm.Devices?.HvSocket?.HvSocketConfig?.ServiceTable).toEqual({
      [AGENT_SERVICE_ID]: { BindSecurityDescriptor: 'D:P(A;;FA;;;WD)' },
    });
    expect(doc.ShouldTerminateOnLastHandleClosed).toBe(false);
  });

  it.each<[string, Partial<DiskBootVmOptions>]>([
    ['osDiskPath', { osDiskPath: 'os.vhdx' }],
    ['guestStateFilePath', { guestStateFilePath: '' }],
    ['runtimeStateFilePath', { runtimeStateFilePath: 'C:relative' }],
    ['memoryMB', { memoryMB: 1024 }],
    ['processorCount', { processorCount: 0 }],
    ['hvSocketServices.<key>', { hvSocketServices: { 'not-a-guid': {} } }],
    [
      `hvSocketServices[${AGENT_SERVICE_ID}].bindSecurityDescriptor`,
      { hvSocketServices: { [AGENT_SERVICE_ID]: { bindSecurityDescriptor: 'everyone' } } },
    ],
    ['videoMonitor.horizontalResolution', { videoMonitor: { horizontalResolution: 70000 } }],
    ['videoMonitor.depth', { videoMonitor: { depth: 32 } as never }],
    ['networkAdapters[0].endpointId', { networkAdapters: [{ endpointId: 'x' }] }],
    ['videoConnection', { videoConnection: undefined as never }],
    ['videoConnection.namedPipe', { videoConnection: { namedPipe: 'C:\\pipe', accessSids: [USER_SID] } }],
    ['videoConnection.accessSids', { videoConnection: { namedPipe: PIPE } }],
    ['videoConnection.accessSids', { videoConnection: { namedPipe: PIPE, accessSids: [] } }],
    [
      'videoConnection.accessSids',
      { videoConnection: { namedPipe: PIPE, accessSids: Array(33).fill(USER_SID) } },
    ],
    [
      'videoConnection.accessSids[1]',
      { videoConnection: { namedPipe: PIPE, accessSids: [USER_SID, 'Administrators'] } },
    ],
    [
      'videoConnection.name',
      { videoConnection: { namedPipe: PIPE, accessSids: [USER_SID], name: 'x' } as never },
    ],
  ])('refuses a bad %s with the field named', (field, extra) => {
    let error: unknown;
    try {
      buildDiskBootVm({ ...base, ...extra });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ field });
  });

  it('checks the files exist when the host can tell', () => {
    const host = { pathExists: (p: string) => !p.endsWith('.vmrs') };
    expect(() => buildDiskBootVm({ ...base, host })).toThrow(/runtimeStateFilePath/);
  });

  it("lets the creating user and Administrators open the console's pipe, the user once", () => {
    expect(videoMonitorAccessSids(USER_SID)).toEqual([USER_SID, 'S-1-5-32-544']);
    expect(videoMonitorAccessSids('S-1-5-32-544')).toEqual(['S-1-5-32-544']);
    const doc = buildDiskBootVm({
      ...base,
      videoConnection: { namedPipe: PIPE, accessSids: videoMonitorAccessSids(USER_SID) },
    });
    expect(validator.validate('ComputeSystem', doc).errors).toEqual([]);
    expect(doc.VirtualMachine?.Devices?.VideoMonitor?.ConnectionOptions?.AccessSids).toEqual([
      USER_SID,
      'S-1-5-32-544',
    ]);
  });
});
