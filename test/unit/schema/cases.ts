/**
 * The case table shared by the builder tests and the schema-validation test:
 * every case builds one or more documents and names the schema definition each
 * must validate against.
 */
import type { ComputeSystemDocument, ModifySettingRequestDocument } from '../../../src/schema/index.js';
import {
  addMappedDirectoryRequest,
  addNetworkAdapterRequest,
  addScsiDiskRequest,
  addVsmbShareRequest,
  buildCloseHandleRequest,
  buildConsoleResizeRequest,
  buildContainer,
  buildCrashOptions,
  buildHypervContainer,
  buildOwnedSystemsQuery,
  buildPauseOptions,
  buildProcessContainer,
  buildProcessParameters,
  buildPropertyQuery,
  buildSandboxVm,
  buildSaveOptions,
  buildServicePropertyQuery,
  buildShutdownOptions,
  buildSignalOptions,
  buildSystemQuery,
  combineLayersRequest,
  removeMappedDirectoryRequest,
  removeNetworkAdapterRequest,
  removeVsmbShareRequest,
  setContainerProcessorRequest,
  setGpuRequest,
  setMemoryRequest,
} from '../../../src/schema/index.js';

export interface EmittedDocument {
  definition: string;
  value: unknown;
}

export interface BuilderCase {
  name: string;
  build: () => EmittedDocument[];
}

export const LAYER_APP = {
  id: '8a3cbd3c-6b7e-5d1f-9c3e-2a1f4b5c6d7e',
  path: 'C:\\ProgramData\\hcs-sandbox\\layers\\app',
};
export const LAYER_BASE = {
  id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b',
  path: 'C:\\ProgramData\\hcs-sandbox\\layers\\base',
};
export const SCRATCH_VOLUME = '\\\\?\\Volume{5f0e3b2a-9c1d-11ee-8c90-0242ac120002}\\';
export const NAMESPACE = 'd7c0c0a4-1f0e-4c8e-9d0b-2f1e3a4b5c6d';
export const ENDPOINT = '6e6f2c1a-6b7b-4a0e-9d65-3b8e2f1c0a11';
export const USER_SID = 'S-1-5-21-646084236-3208304814-2060474565-1001';

export const processBase = { layers: [LAYER_APP, LAYER_BASE], scratchPath: SCRATCH_VOLUME };

export const hypervBase = {
  uvmId: 'sbx-01-uvm',
  utilityVmFilesPath: 'C:\\ProgramData\\hcs-sandbox\\layers\\base\\UtilityVM\\Files',
  uvmScratchVhdxPath: 'C:\\ProgramData\\hcs-sandbox\\uvm\\sbx-01\\sandbox.vhdx',
  layers: [LAYER_BASE],
  containerScratchVhdxPath: 'C:\\ProgramData\\hcs-sandbox\\containers\\c1\\sandbox.vhdx',
};

export const vmBase = {
  baseImagePath: 'C:\\ProgramData\\hcs-sandbox\\images\\base\\Files',
  scratchVhdxPath: 'C:\\ProgramData\\hcs-sandbox\\vms\\sbx-01\\sandbox.vhdx',
};

const system = (value: ComputeSystemDocument): EmittedDocument => ({ definition: 'ComputeSystem', value });

/** A modify request, plus its Settings/GuestRequest checked against their own definitions. */
export function modify(request: ModifySettingRequestDocument, settings?: string): EmittedDocument[] {
  const out: EmittedDocument[] = [{ definition: 'ModifySettingRequest', value: request }];
  if (settings && request.Settings !== undefined) out.push({ definition: settings, value: request.Settings });
  if (request.GuestRequest !== undefined) {
    out.push({ definition: 'GuestModifySettingRequest', value: request.GuestRequest });
    const g = request.GuestRequest;
    const guestDef = g.ResourceType === 'MappedVirtualDisk' ? 'MappedVirtualDisk' : 'CombinedLayers';
    out.push({ definition: guestDef, value: g.Settings });
  }
  return out;
}

function hyperv(docs: ReturnType<typeof buildHypervContainer>): EmittedDocument[] {
  const out = [system(docs.uvm), system(docs.container)];
  out.push({ definition: 'HostedSystem', value: docs.container.HostedSystem });
  for (const r of docs.prepareRequests) {
    const settingsDef = r.ResourcePath?.includes('VirtualSmb')
      ? 'VirtualSmbShare'
      : r.ResourcePath?.includes('Scsi')
        ? 'Attachment'
        : undefined;
    out.push(...modify(r, settingsDef));
  }
  return out;
}

function vm(docs: ReturnType<typeof buildSandboxVm>): EmittedDocument[] {
  return [system(docs.document), ...docs.afterStart.flatMap((r) => modify(r, 'GpuConfiguration'))];
}

export const BUILDER_CASES: BuilderCase[] = [
  // --- process containers
  { name: 'process: minimal', build: () => [system(buildProcessContainer(processBase))] },
  {
    name: 'process: storage QoS and CPU weight',
    build: () => [
      system(
        buildProcessContainer({
          ...processBase,
          processor: { weight: 500 },
          storageQoS: { iopsMaximum: 2000, bandwidthMaximum: 50_000_000 },
        }),
      ),
    ],
  },
  {
    name: 'process: everything',
    build: () => [
      system(
        buildProcessContainer({
          ...processBase,
          hostName: 'sbx-01',
          mappedDirectories: [
            { hostPath: 'C:\\work\\in', containerPath: 'C:\\in', readOnly: true },
            { hostPath: 'C:\\work\\out', containerPath: 'C:\\out' },
          ],
          mappedPipes: [{ containerPipeName: 'agent', hostPath: '\\\\.\\pipe\\agent-sbx-01' }],
          networking: {
            namespaceId: NAMESPACE,
            allowUnqualifiedDnsQuery: true,
            dnsSearchList: ['corp.example.com'],
          },
          processor: { count: 2 },
          memoryMB: 2048,
          host: { logicalProcessorCount: 8, memoryMB: 16384, pathExists: () => true },
        }),
      ),
    ],
  },
  {
    name: 'process: cpu maximum, custom owner, outlive creator, schema 2.4',
    build: () => [
      system(
        buildProcessContainer({
          ...processBase,
          processor: { maximum: 5000 },
          owner: 'my-app',
          outliveCreator: true,
          schemaVersion: { Major: 2, Minor: 4 },
        }),
      ),
    ],
  },
  {
    name: 'process: cpu weight, UNC layer, scratch folder without trailing backslash',
    build: () => [
      system(
        buildProcessContainer({
          layers: [{ id: LAYER_BASE.id, path: '\\\\fileserver\\layers\\base' }],
          scratchPath: 'D:\\scratch\\c1',
          processor: { weight: 100 },
          networking: {},
        }),
      ),
    ],
  },
  {
    name: 'container(): process isolation',
    build: () => {
      const r = buildContainer({ isolation: 'process', ...processBase });
      return r.isolation === 'process' ? [system(r.container)] : [];
    },
  },
  // --- hyper-v containers
  { name: 'hyperv: minimal', build: () => hyperv(buildHypervContainer(hypervBase)) },
  {
    name: 'hyperv: everything',
    build: () =>
      hyperv(
        buildHypervContainer({
          ...hypervBase,
          layers: [LAYER_APP, LAYER_BASE],
          uvm: {
            memoryMB: 2047,
            processorCount: 4,
            allowOvercommit: true,
            enableDeferredCommit: true,
            directFileMappingMB: 512,
            enableCompartmentNamespace: false,
            hvSocketServices: {
              '0000c350-facb-11e6-bd58-64006a7986d3': {
                bindSecurityDescriptor: 'D:P(A;;FA;;;SY)(A;;FA;;;BA)',
                connectSecurityDescriptor: 'D:P(A;;FA;;;SY)(A;;FA;;;BA)',
                allowWildcardBinds: true,
              },
            },
          },
          guestRootPath: 'C:\\c\\c1\\scratch',
          hostName: 'sbx-01',
          mappedDirectories: [
            { hostPath: 'C:\\work\\in', containerPath: 'C:\\in', readOnly: true },
            { hostPath: 'C:\\work\\out', containerPath: 'C:\\out', readOnly: false },
          ],
          networking: { namespaceId: NAMESPACE },
          processor: { count: 4 },
          memoryMB: 1024,
          host: { logicalProcessorCount: 16, memoryMB: 65536 },
        }),
      ),
  },
  {
    name: 'hyperv: physically backed UVM',
    build: () => hyperv(buildHypervContainer({ ...hypervBase, uvm: { allowOvercommit: false } })),
  },
  {
    name: 'container(): hyperv isolation',
    build: () => {
      const r = buildContainer({ isolation: 'hyperv', ...hypervBase });
      return r.isolation === 'hyperv' ? [system(r.uvm), system(r.container)] : [];
    },
  },
  // --- sandbox VMs
  { name: 'vm: minimal', build: () => vm(buildSandboxVm(vmBase)) },
  {
    name: 'vm: everything',
    build: () =>
      vm(
        buildSandboxVm({
          ...vmBase,
          scsiControllerName: 'primary',
          scratchCachingMode: 'ReadOnlyCached',
          scratchSupportCompressedVolumes: true,
          memoryMB: 4096,
          memory: {
            enableDeferredCommit: true,
            backing: 'Virtual',
            backingPageSize: 'Small',
            faultClusterSizeShift: 4,
            directMapFaultClusterSizeShift: 4,
            enablePrivateCompressionStore: true,
            sharedMemoryMB: 2048,
            sharedMemoryAccessSids: [USER_SID],
            enableEpf: true,
          },
          processorCount: 4,
          processor: {
            limit: 50000,
            weight: 200,
            synchronizeHostFeatures: true,
            enableSchedulerAssist: true,
            defaultVpCpuPriority: 10,
            enableProcessorIdling: true,
          },
          directFileMappingMB: 2048,
          vsmbShares: [
            { name: 'work', hostPath: 'C:\\work', readOnly: false },
            { name: 'tools', hostPath: 'C:\\tools' },
          ],
          hvSocket: {
            defaultBindSecurityDescriptor: 'D:P(A;;FA;;;SY)',
            defaultConnectSecurityDescriptor: 'D:P(A;;FA;;;SY)',
            services: {
              'abd802e8-ffcc-40d2-a5f1-f04b1d12cbc8': { bindSecurityDescriptor: 'D:P(A;;FA;;;SY)' },
            },
          },
          enhancedModeVideo: { namedPipe: '\\\\.\\pipe\\sbx-01', accessSids: [USER_SID] },
          crashDump: {
            dumpFileName: 'C:\\dumps\\sbx-01.dmp',
            maxDumpSizeBytes: 4362076160,
            dumpType: 'Summary',
          },
          networkAdapters: [
            { endpointId: ENDPOINT, macAddress: '00-15-5D-52-C0-10' },
            { endpointId: NAMESPACE, name: 'nic1' },
          ],
          guestConnection: { useConnectedSuspend: true, useHostTimeZone: true, useVsock: false },
          guestState: {
            guestStateFilePath: 'C:\\vms\\sbx-01\\sandbox.vmgs',
            runtimeStateFilePath: 'C:\\vms\\sbx-01\\sandbox.vmrs',
            forceTransientState: true,
          },
          restore: { templateSystemId: '48e7facb-2a65-4a83-bfef-03e3c2faae16' },
          gpu: { assignmentMode: 'Mirror' },
          battery: true,
          stopOnReset: false,
          runInSilo: {
            siloBaseOsPath: 'C:\\ProgramData\\hcs-sandbox\\images\\base\\Files',
            notifySiloJobCreated: true,
          },
          launchType: 'None',
          host: { logicalProcessorCount: 8, memoryMB: 32768, pathExists: () => true },
        }),
      ),
  },
  {
    name: 'vm: physical memory, no guest connection, restore from file, GPU list',
    build: () =>
      vm(
        buildSandboxVm({
          ...vmBase,
          memory: { allowOvercommit: false, enableDeferredCommit: false },
          guestConnection: false,
          restore: { saveStateFilePath: 'C:\\vms\\sbx-01\\state.vmrs' },
          gpu: {
            assignmentMode: 'List',
            devices: { '\\\\?\\PCI#VEN_10DE&DEV_2684#{1ca05180-a699-450a-9a0c-de4fbe3ddd89}': 65535 },
          },
          osShareOptions: { ReadOnly: true, ShareRead: true, CacheIo: true },
        }),
      ),
  },
  {
    name: 'vm: GPU disabled, default GPU',
    build: () => [
      ...vm(buildSandboxVm({ ...vmBase, gpu: { assignmentMode: 'Disabled' } })),
      ...vm(buildSandboxVm({ ...vmBase, gpu: { assignmentMode: 'Default', allowVendorExtension: false } })),
    ],
  },
  // --- process parameters
  {
    name: 'process parameters: argv',
    build: () => [
      {
        definition: 'ProcessParameters',
        value: buildProcessParameters({
          argv: ['cmd.exe', '/c', 'echo hello && dir C:\\in'],
          workingDirectory: 'C:\\',
        }),
      },
    ],
  },
  {
    name: 'process parameters: everything',
    build: () => [
      {
        definition: 'ProcessParameters',
        value: buildProcessParameters({
          argv: ['C:\\Program Files\\app\\app.exe', '--name', 'a "quoted" value', 'C:\\dir with space\\'],
          applicationName: 'C:\\Program Files\\app\\app.exe',
          workingDirectory: 'C:\\work',
          environment: { PATH: 'C:\\Windows\\System32;C:\\Windows', FOO: 'bar', EMPTY: '' },
          user: 'ContainerUser',
          emulateConsole: true,
          consoleSize: { height: 30, width: 120 },
          createStdInPipe: true,
          createStdOutPipe: true,
          restrictedToken: true,
          useExistingLogin: false,
        }),
      },
    ],
  },
  {
    name: 'process parameters: command line, no pipes',
    build: () => [
      {
        definition: 'ProcessParameters',
        value: buildProcessParameters({
          commandLine: 'powershell -NoProfile -Command "Get-Date"',
          createStdInPipe: false,
          createStdOutPipe: false,
          createStdErrPipe: false,
          user: 'NT AUTHORITY\\SYSTEM',
        }),
      },
    ],
  },
  // --- modify requests
  {
    name: 'modify: mapped directory add/remove',
    build: () => [
      ...modify(
        addMappedDirectoryRequest({
          hostPath: 'C:\\data\\extra',
          containerPath: 'C:\\extra',
          readOnly: true,
        }),
        'MappedDirectory',
      ),
      ...modify(
        removeMappedDirectoryRequest({ hostPath: 'C:\\data\\extra', containerPath: 'C:\\extra' }),
        'MappedDirectory',
      ),
    ],
  },
  {
    name: 'modify: VSMB share add/remove',
    build: () => [
      ...modify(addVsmbShareRequest({ name: 'share2', hostPath: 'C:\\data\\share2' }), 'VirtualSmbShare'),
      ...modify(
        addVsmbShareRequest({ name: 'rw', hostPath: 'C:\\data\\rw', readOnly: false }),
        'VirtualSmbShare',
      ),
      ...modify(removeVsmbShareRequest('share2'), 'VirtualSmbShare'),
    ],
  },
  {
    name: 'modify: network adapter add/remove',
    build: () => [
      ...modify(
        addNetworkAdapterRequest({ endpointId: ENDPOINT, macAddress: '00-15-5D-52-C0-10' }),
        'NetworkAdapter',
      ),
      ...modify(addNetworkAdapterRequest({ endpointId: ENDPOINT, name: 'nic0' }), 'NetworkAdapter'),
      ...modify(removeNetworkAdapterRequest(ENDPOINT)),
    ],
  },
  {
    name: 'modify: memory, processor, gpu, scsi, combined layers',
    build: () => [
      ...modify(setMemoryRequest('vm', 4096)),
      ...modify(setMemoryRequest('container', 512)),
      ...modify(setContainerProcessorRequest({ maximum: 2500 }), 'Container_Processor'),
      ...modify(setGpuRequest({ assignmentMode: 'Default' }), 'GpuConfiguration'),
      ...modify(
        addScsiDiskRequest({ controller: 'Primary disk', lun: 2, path: 'D:\\vms\\data.vhdx' }),
        'Attachment',
      ),
      ...modify(
        addScsiDiskRequest({
          controller: 'primary',
          lun: 1,
          path: 'D:\\vms\\data.vhdx',
          readOnly: true,
          guestMountPath: 'C:\\mnt\\data',
        }),
        'Attachment',
      ),
      ...modify(combineLayersRequest({ containerRootPath: 'C:\\c\\c1', layers: [LAYER_BASE] })),
    ],
  },
  // --- queries and options
  {
    name: 'queries',
    build: () => [
      { definition: 'System_PropertyQuery', value: buildPropertyQuery() },
      {
        definition: 'System_PropertyQuery',
        value: buildPropertyQuery(['Statistics', 'ProcessList', 'Statistics']),
      },
      {
        definition: 'System_PropertyQuery',
        value: buildPropertyQuery([
          'Memory',
          'GuestConnection',
          'TerminateOnLastHandleClosed',
          'SharedMemoryRegion',
        ]),
      },
      { definition: 'Service_PropertyQuery', value: buildServicePropertyQuery() },
      {
        definition: 'Service_PropertyQuery',
        value: buildServicePropertyQuery(['ProcessorTopology', 'QoSCapabilities']),
      },
      { definition: 'SystemQuery', value: buildSystemQuery() },
      {
        definition: 'SystemQuery',
        value: buildSystemQuery({
          ids: ['a'],
          names: ['n'],
          types: ['Container', 'VirtualMachine'],
          owners: ['o'],
        }),
      },
      { definition: 'SystemQuery', value: buildOwnedSystemsQuery() },
    ],
  },
  {
    name: 'options',
    build: () => [
      { definition: 'ShutdownOptions', value: buildShutdownOptions({}) },
      {
        definition: 'ShutdownOptions',
        value: buildShutdownOptions({
          mechanism: 'IntegrationService',
          type: 'Reboot',
          force: true,
          reason: 'update',
        }),
      },
      {
        definition: 'SaveOptions',
        value: buildSaveOptions({ saveType: 'ToFile', saveStateFilePath: 'D:\\vms\\state.vmrs' }),
      },
      { definition: 'SaveOptions', value: buildSaveOptions({ saveType: 'AsTemplate' }) },
      { definition: 'PauseOptions', value: buildPauseOptions({}) },
      {
        definition: 'PauseOptions',
        value: buildPauseOptions({ suspensionLevel: 'Suspend', reason: 'Save' }),
      },
      { definition: 'CrashOptions', value: buildCrashOptions() },
      { definition: 'SignalProcessOptions', value: buildSignalOptions('CtrlBreak') },
      { definition: 'ProcessModifyRequest', value: buildConsoleResizeRequest({ height: 40, width: 160 }) },
      { definition: 'ProcessModifyRequest', value: buildCloseHandleRequest('StdIn') },
    ],
  },
];
