import { describe, expect, it } from 'vitest';
import {
  addMappedDirectoryRequest,
  addNetworkAdapterRequest,
  addVsmbShareRequest,
  buildContainer,
  buildCrashOptions,
  buildHypervContainer,
  buildPauseOptions,
  buildProcessContainer,
  buildProcessParameters,
  buildPropertyQuery,
  buildSandboxVm,
  buildShutdownOptions,
  buildSystemQuery,
  buildTerminateOptions,
  removeNetworkAdapterRequest,
  removeVsmbShareRequest,
  setMemoryRequest,
  VSMB_GUEST_PREFIX,
} from '../../../src/schema/index.js';
import {
  ENDPOINT,
  hypervBase,
  LAYER_APP,
  LAYER_BASE,
  NAMESPACE,
  processBase,
  SCRATCH_VOLUME,
  vmBase,
} from './cases.js';

describe('compute-system envelope (every builder)', () => {
  const builders: Array<
    [
      string,
      (
        o: object,
      ) => { Owner?: string; SchemaVersion?: unknown; ShouldTerminateOnLastHandleClosed?: boolean }[],
    ]
  > = [
    ['process', (o) => [buildProcessContainer({ ...processBase, ...o })]],
    [
      'hyperv',
      (o) => {
        const d = buildHypervContainer({ ...hypervBase, ...o });
        return [d.uvm, d.container];
      },
    ],
    ['vm', (o) => [buildSandboxVm({ ...vmBase, ...o }).document]],
  ];
  describe.each(builders)('%s', (_name, build) => {
    it('defaults: Owner hcs-sandbox, schema 2.1, terminate on last handle close', () => {
      for (const doc of build({})) {
        expect(doc.Owner).toBe('hcs-sandbox');
        expect(doc.SchemaVersion).toEqual({ Major: 2, Minor: 1 });
        expect(doc.ShouldTerminateOnLastHandleClosed).toBe(true);
      }
    });
    it('owner, outliveCreator and schemaVersion override', () => {
      for (const doc of build({ owner: 'me', outliveCreator: true, schemaVersion: { Major: 2, Minor: 4 } })) {
        expect(doc.Owner).toBe('me');
        expect(doc.SchemaVersion).toEqual({ Major: 2, Minor: 4 });
        expect(doc.ShouldTerminateOnLastHandleClosed).toBe(false);
      }
    });
    it('outliveCreator: false keeps terminate-on-close', () => {
      for (const doc of build({ outliveCreator: false }))
        expect(doc.ShouldTerminateOnLastHandleClosed).toBe(true);
    });
  });
});

describe('buildProcessContainer', () => {
  it('builds the §5a shape', () => {
    const doc = buildProcessContainer({
      ...processBase,
      hostName: 'sbx-01',
      mappedDirectories: [
        { hostPath: 'C:\\work\\in', containerPath: 'C:\\in', readOnly: true },
        { hostPath: 'C:\\work\\out', containerPath: 'C:\\out' },
      ],
      mappedPipes: [{ containerPipeName: 'myagent', hostPath: '\\\\.\\pipe\\myagent-sbx-01' }],
      networking: { namespaceId: NAMESPACE, dnsSearchList: ['corp.example.com', 'example.com'] },
      processor: { count: 2 },
      memoryMB: 2048,
    });
    expect(doc.Container).toEqual({
      GuestOs: { HostName: 'sbx-01' },
      Storage: {
        Layers: [
          { Id: LAYER_APP.id, Path: LAYER_APP.path },
          { Id: LAYER_BASE.id, Path: LAYER_BASE.path },
        ],
        Path: SCRATCH_VOLUME,
      },
      MappedDirectories: [
        { HostPath: 'C:\\work\\in', ContainerPath: 'C:\\in', ReadOnly: true },
        { HostPath: 'C:\\work\\out', ContainerPath: 'C:\\out', ReadOnly: false },
      ],
      MappedPipes: [{ ContainerPipeName: 'myagent', HostPath: '\\\\.\\pipe\\myagent-sbx-01' }],
      Networking: { Namespace: NAMESPACE, DnsSearchList: 'corp.example.com,example.com' },
      Processor: { Count: 2 },
      Memory: { SizeInMB: 2048 },
    });
    expect(doc.VirtualMachine).toBeUndefined();
  });

  it.each([
    [{ count: 1 }, { Count: 1 }],
    [{ count: 64 }, { Count: 64 }],
    [{ maximum: 1 }, { Maximum: 1 }],
    [{ maximum: 10000 }, { Maximum: 10000 }],
    [{ weight: 1 }, { Weight: 1 }],
    [{ weight: 10000 }, { Weight: 10000 }],
  ])('processor %j → %j', (processor, expected) => {
    expect(buildProcessContainer({ ...processBase, processor }).Container?.Processor).toEqual(expected);
  });

  it.each([
    ['D:\\scratch', 'D:\\scratch\\'],
    ['D:\\scratch\\', 'D:\\scratch\\'],
    [SCRATCH_VOLUME, SCRATCH_VOLUME],
  ])('scratch %s → %s', (scratchPath, expected) => {
    expect(buildProcessContainer({ ...processBase, scratchPath }).Container?.Storage?.Path).toBe(expected);
  });

  it.each([
    [{ allowUnqualifiedDnsQuery: false }, { AllowUnqualifiedDnsQuery: false }],
    [{ dnsSearchList: [] }, { DnsSearchList: '' }],
    [
      { namespaceId: NAMESPACE, allowUnqualifiedDnsQuery: true },
      { Namespace: NAMESPACE, AllowUnqualifiedDnsQuery: true },
    ],
  ])('networking %j → %j', (networking, expected) => {
    expect(buildProcessContainer({ ...processBase, networking }).Container?.Networking).toEqual(expected);
  });

  it('leaves optional sections out', () => {
    expect(Object.keys(buildProcessContainer(processBase).Container ?? {})).toEqual(['Storage']);
  });

  it('checks paths with host.pathExists only when given, and never touches disk otherwise', () => {
    const seen: string[] = [];
    buildProcessContainer({
      ...processBase,
      mappedDirectories: [{ hostPath: 'C:\\does\\not\\exist', containerPath: 'C:\\x' }],
      host: {
        pathExists: (p) => {
          seen.push(p);
          return true;
        },
      },
    });
    expect(seen).toEqual([LAYER_APP.path, LAYER_BASE.path, 'C:\\does\\not\\exist']);
    expect(() =>
      buildProcessContainer({
        ...processBase,
        mappedDirectories: [{ hostPath: 'C:\\nope', containerPath: 'C:\\x' }],
      }),
    ).not.toThrow();
  });

  it('accepts host memory and CPU up to the host limits', () => {
    const doc = buildProcessContainer({
      ...processBase,
      memoryMB: 8192,
      processor: { count: 8 },
      host: { memoryMB: 8192, logicalProcessorCount: 8 },
    });
    expect(doc.Container?.Memory).toEqual({ SizeInMB: 8192 });
  });
});

describe('buildHypervContainer', () => {
  it('builds the UVM like hcsshim (VmbFs boot, os share, scratch on SCSI 0:0, GuestConnection)', () => {
    const { uvm } = buildHypervContainer(hypervBase);
    const vm = uvm.VirtualMachine;
    expect(vm?.StopOnReset).toBe(true);
    expect(vm?.Chipset?.Uefi?.BootThis).toEqual({
      DeviceType: 'VmbFs',
      DevicePath: '\\EFI\\Microsoft\\Boot\\bootmgfw.efi',
    });
    expect(vm?.ComputeTopology).toEqual({
      Memory: { SizeInMB: 1024, AllowOvercommit: true, EnableHotHint: true, EnableDeferredCommit: false },
      Processor: { Count: 2 },
    });
    expect(vm?.Devices?.Scsi).toEqual({
      'df6d0690-79e5-55b6-a5ec-c1e2f77f580a': {
        Attachments: { '0': { Type: 'VirtualDisk', Path: hypervBase.uvmScratchVhdxPath } },
      },
    });
    expect(vm?.Devices?.VirtualSmb?.Shares?.[0]?.Name).toBe('os');
    expect(vm?.Devices?.VirtualSmb?.Shares?.[0]?.Path).toBe(hypervBase.utilityVmFilesPath);
    expect(vm?.GuestConnection).toEqual({});
    expect(vm?.RegistryChanges?.AddValues?.[0]?.Name).toBe('EnableCompartmentNamespace');
  });

  it('shares layers and mapped folders over VSMB and points the container at the guest paths', () => {
    const d = buildHypervContainer({
      ...hypervBase,
      layers: [LAYER_APP, LAYER_BASE],
      mappedDirectories: [{ hostPath: 'C:\\work\\out', containerPath: 'C:\\out' }],
    });
    const shares = d.prepareRequests.filter(
      (r) => r.ResourcePath === 'VirtualMachine/Devices/VirtualSmb/Shares',
    );
    expect(shares.map((r) => (r.Settings as { Name: string; Path: string }).Path)).toEqual([
      LAYER_APP.path,
      LAYER_BASE.path,
      'C:\\work\\out',
    ]);
    expect((shares[2]!.Settings as { Options: object }).Options).toEqual({});
    const hosted = d.container.HostedSystem?.Container;
    expect(hosted?.Storage?.Layers).toEqual([
      { Id: LAYER_APP.id, Path: `${VSMB_GUEST_PREFIX}s1` },
      { Id: LAYER_BASE.id, Path: `${VSMB_GUEST_PREFIX}s2` },
    ]);
    expect(hosted?.MappedDirectories).toEqual([
      { HostPath: `${VSMB_GUEST_PREFIX}s3`, ContainerPath: 'C:\\out', ReadOnly: false },
    ]);
    expect(hosted?.Storage?.Path).toBe('C:\\c\\container');
    expect(d.container.HostingSystemId).toBe('sbx-01-uvm');
    const scsi = d.prepareRequests.find((r) => r.ResourcePath?.includes('/Scsi/'));
    expect(scsi?.ResourcePath).toBe(
      'VirtualMachine/Devices/Scsi/df6d0690-79e5-55b6-a5ec-c1e2f77f580a/Attachments/1',
    );
    expect(scsi?.GuestRequest).toEqual({
      ResourceType: 'MappedVirtualDisk',
      RequestType: 'Add',
      Settings: { ContainerPath: 'C:\\c\\container', Lun: 1 },
    });
    expect(d.prepareRequests.at(-1)?.GuestRequest?.ResourceType).toBe('CombinedLayers');
  });

  it.each([
    [1023, 1024],
    [1024, 1024],
    [4097, 4098],
  ])('UVM memory %d MB is aligned to %d MB', (memoryMB, expected) => {
    const { uvm } = buildHypervContainer({ ...hypervBase, uvm: { memoryMB } });
    expect(uvm.VirtualMachine?.ComputeTopology?.Memory?.SizeInMB).toBe(expected);
  });

  it('defaults to one processor on a single-processor host', () => {
    const { uvm } = buildHypervContainer({ ...hypervBase, host: { logicalProcessorCount: 1 } });
    expect(uvm.VirtualMachine?.ComputeTopology?.Processor).toEqual({ Count: 1 });
  });

  it('limits the container CPU count to the UVM processor count', () => {
    expect(() =>
      buildHypervContainer({ ...hypervBase, uvm: { processorCount: 2 }, processor: { count: 3 } }),
    ).toThrow(/processor\.count/);
  });
});

describe('buildSandboxVm', () => {
  it('builds a Sandbox-style VM with defaults', () => {
    const { document, afterStart } = buildSandboxVm(vmBase);
    const vm = document.VirtualMachine;
    expect(afterStart).toEqual([]);
    expect(vm?.ComputeTopology?.Memory).toEqual({
      SizeInMB: 2048,
      AllowOvercommit: true,
      EnableHotHint: true,
      EnableColdHint: true,
      EnableDeferredCommit: true,
    });
    expect(vm?.ComputeTopology?.Processor).toEqual({ Count: 2 });
    expect(vm?.Devices?.Scsi?.primary?.Attachments?.['0']).toEqual({
      Type: 'VirtualDisk',
      Path: vmBase.scratchVhdxPath,
    });
    expect(vm?.Devices?.VirtualSmb?.Shares?.[0]?.Options?.ReparseBaseLayer).toBe(true);
    expect(vm?.Devices?.VirtualSmb?.DirectFileMappingInMB).toBe(4096);
    expect(vm?.GuestConnection).toEqual({});
    expect(vm?.Devices?.HvSocket?.HvSocketConfig?.ServiceTable).toEqual({});
    expect(vm?.RestoreState).toBeUndefined();
  });

  it.each([
    [{}, { AllowOvercommit: true, EnableDeferredCommit: true }],
    [
      { allowOvercommit: false, enableDeferredCommit: false },
      { AllowOvercommit: false, EnableDeferredCommit: false },
    ],
    [{ backing: 'Virtual' }, { Backing: 'Virtual', EnableDeferredCommit: true }],
    [{ backing: 'Physical' }, { Backing: 'Physical', EnableDeferredCommit: false }],
    [
      { backing: 'Hybrid', allowOvercommit: true },
      { AllowOvercommit: true, Backing: 'Hybrid' },
    ],
  ] as const)('memory %j', (memory, expected) => {
    const mem = buildSandboxVm({ ...vmBase, memory }).document.VirtualMachine?.ComputeTopology?.Memory;
    expect(mem).toMatchObject(expected);
    if (!('allowOvercommit' in memory) && 'backing' in memory) expect(mem?.AllowOvercommit).toBeUndefined();
  });

  it('returns GPU-PV as an after-start request', () => {
    const { afterStart, document } = buildSandboxVm({ ...vmBase, gpu: { assignmentMode: 'Mirror' } });
    expect(afterStart).toEqual([
      {
        ResourcePath: 'VirtualMachine/ComputeTopology/Gpu',
        RequestType: 'Update',
        Settings: { AssignmentMode: 'Mirror', AllowVendorExtension: true },
      },
    ]);
    expect(JSON.stringify(document)).not.toContain('Gpu');
  });

  it.each([
    [{ templateSystemId: 'tmpl-1' }, { TemplateSystemId: 'tmpl-1' }],
    [{ saveStateFilePath: 'D:\\vm\\state.vmrs' }, { SaveStateFilePath: 'D:\\vm\\state.vmrs' }],
  ])('restore %j', (restore, expected) => {
    expect(buildSandboxVm({ ...vmBase, restore }).document.VirtualMachine?.RestoreState).toEqual(expected);
  });

  it('adds extra VSMB shares after os, network adapters keyed by endpoint, battery marker', () => {
    const vm = buildSandboxVm({
      ...vmBase,
      vsmbShares: [{ name: 'work', hostPath: 'C:\\work', readOnly: false }],
      networkAdapters: [{ endpointId: ENDPOINT }],
      battery: true,
    }).document.VirtualMachine;
    expect(vm?.Devices?.VirtualSmb?.Shares?.map((s) => s.Name)).toEqual(['os', 'work']);
    expect(vm?.Devices?.NetworkAdapters).toEqual({ [ENDPOINT]: { EndpointId: ENDPOINT } });
    expect(vm?.Devices?.Battery).toEqual({});
  });

  it('omits GuestConnection when guestConnection is false', () => {
    expect(
      buildSandboxVm({ ...vmBase, guestConnection: false }).document.VirtualMachine?.GuestConnection,
    ).toBeUndefined();
  });
});

describe('buildContainer (isolation dispatch)', () => {
  it('process', () => {
    const r = buildContainer({ isolation: 'process', ...processBase });
    expect(r.isolation).toBe('process');
    expect('container' in r && r.container.Container).toBeTruthy();
  });
  it('hyperv', () => {
    const r = buildContainer({ isolation: 'hyperv', ...hypervBase });
    expect(r.isolation === 'hyperv' && r.uvm.VirtualMachine).toBeTruthy();
  });
});

describe('buildProcessParameters', () => {
  it.each([
    [
      { argv: ['cmd.exe', '/c', 'echo hi'] },
      {
        CommandLine: 'cmd.exe /c "echo hi"',
        EmulateConsole: false,
        CreateStdInPipe: true,
        CreateStdOutPipe: true,
        CreateStdErrPipe: true,
      },
    ],
    [
      { commandLine: 'cmd /c dir', emulateConsole: true, consoleSize: { height: 30, width: 120 } },
      {
        CommandLine: 'cmd /c dir',
        EmulateConsole: true,
        ConsoleSize: [30, 120],
        CreateStdInPipe: true,
        CreateStdOutPipe: true,
        CreateStdErrPipe: false,
      },
    ],
    [
      {
        argv: ['a.exe'],
        createStdInPipe: false,
        createStdErrPipe: false,
        user: 'ContainerAdministrator',
        workingDirectory: 'C:\\',
      },
      {
        CommandLine: 'a.exe',
        User: 'ContainerAdministrator',
        WorkingDirectory: 'C:\\',
        EmulateConsole: false,
        CreateStdInPipe: false,
        CreateStdOutPipe: true,
        CreateStdErrPipe: false,
      },
    ],
    [
      { argv: ['a.exe'], environment: { A: '1' }, restrictedToken: true, useExistingLogin: true },
      {
        CommandLine: 'a.exe',
        Environment: { A: '1' },
        RestrictedToken: true,
        UseExistingLogin: true,
        EmulateConsole: false,
        CreateStdInPipe: true,
        CreateStdOutPipe: true,
        CreateStdErrPipe: true,
      },
    ],
  ])('%j', (options, expected) => {
    expect(buildProcessParameters(options)).toEqual(expected);
  });
});

describe('modify requests, queries and options', () => {
  it('mapped directory add', () => {
    expect(
      addMappedDirectoryRequest({ hostPath: 'C:\\data\\extra', containerPath: 'C:\\extra', readOnly: true }),
    ).toEqual({
      ResourcePath: 'Container/MappedDirectories',
      RequestType: 'Add',
      Settings: { HostPath: 'C:\\data\\extra', ContainerPath: 'C:\\extra', ReadOnly: true },
    });
  });
  it('VSMB add and remove', () => {
    expect(addVsmbShareRequest({ name: 'share2', hostPath: 'C:\\data\\share2' })).toEqual({
      ResourcePath: 'VirtualMachine/Devices/VirtualSmb/Shares',
      RequestType: 'Add',
      Settings: {
        Name: 'share2',
        Path: 'C:\\data\\share2',
        Options: { ReadOnly: true, ShareRead: true, CacheIo: true, PseudoOplocks: true },
      },
    });
    expect(removeVsmbShareRequest('share2')).toEqual({
      ResourcePath: 'VirtualMachine/Devices/VirtualSmb/Shares',
      RequestType: 'Remove',
      Settings: { Name: 'share2' },
    });
  });
  it('network adapter add and remove', () => {
    expect(addNetworkAdapterRequest({ endpointId: ENDPOINT, macAddress: '00-15-5D-52-C0-10' })).toEqual({
      ResourcePath: `VirtualMachine/Devices/NetworkAdapters/${ENDPOINT}`,
      RequestType: 'Add',
      Settings: { EndpointId: ENDPOINT, MacAddress: '00-15-5D-52-C0-10' },
    });
    expect(removeNetworkAdapterRequest(ENDPOINT)).toEqual({
      ResourcePath: `VirtualMachine/Devices/NetworkAdapters/${ENDPOINT}`,
      RequestType: 'Remove',
    });
  });
  it.each([
    ['vm', 4096, 'VirtualMachine/ComputeTopology/Memory/SizeInMB', 4096],
    ['vm', 4095, 'VirtualMachine/ComputeTopology/Memory/SizeInMB', 4096],
    ['container', 300, 'Container/Memory/SizeInMB', 300],
  ] as const)('memory %s %d', (target, size, path, settings) => {
    expect(setMemoryRequest(target, size)).toEqual({
      ResourcePath: path,
      RequestType: 'Update',
      Settings: settings,
    });
  });
  it('queries', () => {
    expect(buildPropertyQuery(['Statistics', 'ProcessList'])).toEqual({
      PropertyTypes: ['Statistics', 'ProcessList'],
    });
    expect(buildSystemQuery({ owners: ['hcs-sandbox'], types: ['VirtualMachine'] })).toEqual({
      Types: ['VirtualMachine'],
      Owners: ['hcs-sandbox'],
    });
  });
  it('options', () => {
    expect(buildShutdownOptions()).toBeNull();
    expect(buildTerminateOptions()).toBeNull();
    expect(buildPauseOptions()).toBeNull();
    expect(buildShutdownOptions({ mechanism: 'GuestConnection', type: 'Shutdown', force: false })).toEqual({
      Mechanism: 'GuestConnection',
      Type: 'Shutdown',
      Force: false,
    });
    expect(buildPauseOptions({ suspensionLevel: 'Suspend', reason: 'Save' })).toEqual({
      SuspensionLevel: 'Suspend',
      HostedNotification: { Reason: 'Save' },
    });
    expect(buildCrashOptions()).toEqual({ Type: 'CrashGuest' });
  });
});

describe('purity', () => {
  it('builders do not mutate their input and return equal output for equal input', () => {
    const input = structuredClone({
      ...processBase,
      mappedDirectories: [{ hostPath: 'C:\\a', containerPath: 'C:\\b' }],
    });
    const before = JSON.stringify(input);
    const a = buildProcessContainer(input);
    const b = buildProcessContainer(input);
    expect(JSON.stringify(input)).toBe(before);
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
  });
  it('outputs are plain JSON (no undefined values)', () => {
    const d = buildSandboxVm(vmBase).document;
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
});
