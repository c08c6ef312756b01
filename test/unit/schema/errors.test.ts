import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  addMappedDirectoryRequest,
  addNetworkAdapterRequest,
  addScsiDiskRequest,
  addVsmbShareRequest,
  buildCloseHandleRequest,
  buildConsoleResizeRequest,
  buildContainer,
  buildHypervContainer,
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
  type ContainerOptions,
  type HypervContainerOptions,
  type ProcessContainerOptions,
  type ProcessParametersOptions,
  removeNetworkAdapterRequest,
  removeVsmbShareRequest,
  type SandboxVmOptions,
  setContainerProcessorRequest,
  setGpuRequest,
  setMemoryRequest,
} from '../../../src/schema/index.js';
import { ENDPOINT, hypervBase, LAYER_BASE, processBase, vmBase } from './cases.js';

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const e = err as InvalidArgumentError;
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.allowed.length).toBeGreaterThan(0);
    expect(e.message).toContain(e.field);
    return e.field;
  }
  throw new Error('expected an InvalidArgumentError, but nothing was thrown');
}

// biome-ignore lint/suspicious/noExplicitAny: deliberately wrong inputs.
type Any = any;

const missing = () => false;

const PROCESS_CASES: Array<[string, Partial<ProcessContainerOptions> | Any, string]> = [
  ['empty layers', { layers: [] }, 'layers'],
  ['layers not an array', { layers: 'C:\\l' }, 'layers'],
  ['bad layer GUID', { layers: [{ id: 'not-a-guid', path: 'C:\\l' }] }, 'layers[0].id'],
  ['braced layer GUID', { layers: [{ id: `{${LAYER_BASE.id}}`, path: 'C:\\l' }] }, 'layers[0].id'],
  ['duplicate layer id', { layers: [LAYER_BASE, { ...LAYER_BASE, path: 'C:\\other' }] }, 'layers[1].id'],
  ['relative layer path', { layers: [{ id: LAYER_BASE.id, path: 'layers\\base' }] }, 'layers[0].path'],
  ['forward slashes', { layers: [{ id: LAYER_BASE.id, path: 'C:/layers/base' }] }, 'layers[0].path'],
  ['dot-dot in path', { layers: [{ id: LAYER_BASE.id, path: 'C:\\layers\\..\\base' }] }, 'layers[0].path'],
  ['wildcard in path', { layers: [{ id: LAYER_BASE.id, path: 'C:\\layers\\*' }] }, 'layers[0].path'],
  ['missing layer (pathExists)', { host: { pathExists: missing } }, 'layers[0].path'],
  ['relative scratch', { scratchPath: 'scratch' }, 'scratchPath'],
  ['drive-relative scratch', { scratchPath: 'C:scratch' }, 'scratchPath'],
  ['memory below minimum', { memoryMB: 255 }, 'memoryMB'],
  ['memory zero', { memoryMB: 0 }, 'memoryMB'],
  ['memory fractional', { memoryMB: 512.5 }, 'memoryMB'],
  ['memory above host', { memoryMB: 9000, host: { memoryMB: 8192 } }, 'memoryMB'],
  ['more CPUs than host', { processor: { count: 9 }, host: { logicalProcessorCount: 8 } }, 'processor.count'],
  ['zero CPUs', { processor: { count: 0 } }, 'processor.count'],
  ['maximum above 10000', { processor: { maximum: 10001 } }, 'processor.maximum'],
  ['maximum zero', { processor: { maximum: 0 } }, 'processor.maximum'],
  ['weight above 10000', { processor: { weight: 20000 } }, 'processor.weight'],
  ['count and maximum together', { processor: { count: 1, maximum: 5000 } }, 'processor'],
  ['empty processor', { processor: {} }, 'processor'],
  [
    'mapped target not absolute',
    { mappedDirectories: [{ hostPath: 'C:\\a', containerPath: 'data' }] },
    'mappedDirectories[0].containerPath',
  ],
  [
    'mapped target is a UNC path',
    { mappedDirectories: [{ hostPath: 'C:\\a', containerPath: '\\\\srv\\share' }] },
    'mappedDirectories[0].containerPath',
  ],
  [
    'mapped target is a drive root',
    { mappedDirectories: [{ hostPath: 'C:\\a', containerPath: 'C:\\' }] },
    'mappedDirectories[0].containerPath',
  ],
  [
    'mapped target twice',
    {
      mappedDirectories: [
        { hostPath: 'C:\\a', containerPath: 'C:\\x' },
        { hostPath: 'C:\\b', containerPath: 'c:\\X\\' },
      ],
    },
    'mappedDirectories[1].containerPath',
  ],
  [
    'mapped host path relative',
    { mappedDirectories: [{ hostPath: '.\\a', containerPath: 'C:\\x' }] },
    'mappedDirectories[0].hostPath',
  ],
  [
    'mapped host path missing (pathExists)',
    {
      mappedDirectories: [{ hostPath: 'C:\\gone', containerPath: 'C:\\x' }],
      host: { pathExists: (p: string) => p !== 'C:\\gone' },
    },
    'mappedDirectories[0].hostPath',
  ],
  [
    'mapped readOnly not boolean',
    { mappedDirectories: [{ hostPath: 'C:\\a', containerPath: 'C:\\x', readOnly: 'yes' }] },
    'mappedDirectories[0].readOnly',
  ],
  [
    'pipe name with prefix',
    { mappedPipes: [{ containerPipeName: '\\\\.\\pipe\\x', hostPath: '\\\\.\\pipe\\x' }] },
    'mappedPipes[0].containerPipeName',
  ],
  [
    'pipe host path not a pipe',
    { mappedPipes: [{ containerPipeName: 'x', hostPath: 'C:\\x' }] },
    'mappedPipes[0].hostPath',
  ],
  ['bad namespace GUID', { networking: { namespaceId: 'ns' } }, 'networking.namespaceId'],
  ['bad DNS suffix', { networking: { dnsSearchList: ['bad domain'] } }, 'networking.dnsSearchList[0]'],
  ['bad host name', { hostName: 'bad_name!' }, 'hostName'],
  ['empty owner', { owner: '' }, 'owner'],
  ['owner with newline', { owner: 'a\nb' }, 'owner'],
  ['schema 1.0', { schemaVersion: { Major: 1, Minor: 0 } }, 'schemaVersion'],
  ['schema 2.9', { schemaVersion: { Major: 2, Minor: 9 } }, 'schemaVersion'],
  ['outliveCreator not boolean', { outliveCreator: 1 }, 'outliveCreator'],
  ['host not an object', { host: 5 }, 'host'],
  ['host cpu count zero', { host: { logicalProcessorCount: 0 } }, 'host.logicalProcessorCount'],
  ['host pathExists not a function', { host: { pathExists: true } }, 'host.pathExists'],
];

describe('buildProcessContainer rejects', () => {
  it.each(PROCESS_CASES)('%s', (_name, patch, field) => {
    expect(fieldOf(() => buildProcessContainer({ ...processBase, ...patch }))).toBe(field);
  });
  it('a non-object', () => {
    expect(fieldOf(() => buildProcessContainer(null as Any))).toBe('options');
  });
});

describe('buildContainer rejects', () => {
  it.each([['vm'], ['Process'], [undefined], ['']])('isolation %j', (isolation) => {
    expect(fieldOf(() => buildContainer({ ...processBase, isolation } as Any as ContainerOptions))).toBe(
      'isolation',
    );
  });
});

const HYPERV_CASES: Array<[string, Partial<HypervContainerOptions> | Any, string]> = [
  ['missing uvmId', { uvmId: '' }, 'uvmId'],
  ['relative UtilityVM path', { utilityVmFilesPath: 'UtilityVM\\Files' }, 'utilityVmFilesPath'],
  [
    'missing UVM scratch (pathExists)',
    { host: { pathExists: (p: string) => !p.endsWith('uvm\\sbx-01\\sandbox.vhdx') } },
    'uvmScratchVhdxPath',
  ],
  ['relative container scratch', { containerScratchVhdxPath: 'sandbox.vhdx' }, 'containerScratchVhdxPath'],
  ['empty layers', { layers: [] }, 'layers'],
  ['UVM memory below minimum', { uvm: { memoryMB: 256 } }, 'uvm.memoryMB'],
  ['UVM memory above host', { uvm: { memoryMB: 4096 }, host: { memoryMB: 2048 } }, 'uvm.memoryMB'],
  [
    'UVM more CPUs than host',
    { uvm: { processorCount: 3 }, host: { logicalProcessorCount: 2 } },
    'uvm.processorCount',
  ],
  [
    'deferred commit without overcommit',
    { uvm: { allowOvercommit: false, enableDeferredCommit: true } },
    'uvm.enableDeferredCommit',
  ],
  ['bad hvsocket service GUID', { uvm: { hvSocketServices: { nope: {} } } }, 'uvm.hvSocketServices.<key>'],
  [
    'bad hvsocket SDDL',
    { uvm: { hvSocketServices: { [ENDPOINT]: { bindSecurityDescriptor: 'everyone' } } } },
    `uvm.hvSocketServices[${ENDPOINT}].bindSecurityDescriptor`,
  ],
  ['guest root not absolute', { guestRootPath: 'c\\scratch' }, 'guestRootPath'],
  ['container memory above UVM memory', { uvm: { memoryMB: 1024 }, memoryMB: 2048 }, 'memoryMB'],
  [
    'container CPUs above UVM CPUs',
    { uvm: { processorCount: 2 }, processor: { count: 4 } },
    'processor.count',
  ],
  [
    'mapped target not absolute',
    { mappedDirectories: [{ hostPath: 'C:\\a', containerPath: 'D:' }] },
    'mappedDirectories[0].containerPath',
  ],
];

describe('buildHypervContainer rejects', () => {
  it.each(HYPERV_CASES)('%s', (_name, patch, field) => {
    expect(fieldOf(() => buildHypervContainer({ ...hypervBase, ...patch }))).toBe(field);
  });
});

const VM_CASES: Array<[string, Partial<SandboxVmOptions> | Any, string]> = [
  ['relative base image', { baseImagePath: 'BaseLayer\\Files' }, 'baseImagePath'],
  ['missing base image (pathExists)', { host: { pathExists: missing } }, 'baseImagePath'],
  ['relative scratch', { scratchVhdxPath: 'sandbox.vhdx' }, 'scratchVhdxPath'],
  ['memory below minimum', { memoryMB: 1000 }, 'memoryMB'],
  ['memory above host', { memoryMB: 65536, host: { memoryMB: 32768 } }, 'memoryMB'],
  ['more CPUs than host', { processorCount: 17, host: { logicalProcessorCount: 16 } }, 'processorCount'],
  ['zero CPUs', { processorCount: 0 }, 'processorCount'],
  ['processor limit too high', { processor: { limit: 100001 } }, 'processor.limit'],
  ['processor weight too high', { processor: { weight: 10001 } }, 'processor.weight'],
  [
    'overcommit with physical backing',
    { memory: { backing: 'Physical', allowOvercommit: true } },
    'memory.allowOvercommit',
  ],
  [
    'deferred commit with physical memory',
    { memory: { allowOvercommit: false, enableDeferredCommit: true } },
    'memory.enableDeferredCommit',
  ],
  ['unknown backing', { memory: { backing: 'Paged' } }, 'memory.backing'],
  ['bad page size', { memory: { backingPageSize: 'Huge' } }, 'memory.backingPageSize'],
  [
    'bad shared memory SID',
    { memory: { sharedMemoryAccessSids: ['me'] } },
    'memory.sharedMemoryAccessSids[0]',
  ],
  ['share named os', { vsmbShares: [{ name: 'os', hostPath: 'C:\\x' }] }, 'vsmbShares[0].name'],
  [
    'duplicate share names',
    {
      vsmbShares: [
        { name: 'a', hostPath: 'C:\\x' },
        { name: 'A', hostPath: 'C:\\y' },
      ],
    },
    'vsmbShares[1].name',
  ],
  ['share name with slash', { vsmbShares: [{ name: 'a/b', hostPath: 'C:\\x' }] }, 'vsmbShares[0].name'],
  ['relative share path', { vsmbShares: [{ name: 'a', hostPath: 'x' }] }, 'vsmbShares[0].hostPath'],
  ['unknown os share option', { osShareOptions: { Fast: true } }, 'osShareOptions.<key>'],
  [
    'bad enhanced video pipe',
    { enhancedModeVideo: { namedPipe: 'C:\\pipe' } },
    'enhancedModeVideo.namedPipe',
  ],
  [
    'bad enhanced video SID',
    { enhancedModeVideo: { namedPipe: '\\\\.\\pipe\\x', accessSids: ['x'] } },
    'enhancedModeVideo.accessSids[0]',
  ],
  [
    'bad crash dump type',
    { crashDump: { dumpFileName: 'C:\\d.dmp', dumpType: 'Mini' } },
    'crashDump.dumpType',
  ],
  ['relative crash dump file', { crashDump: { dumpFileName: 'd.dmp' } }, 'crashDump.dumpFileName'],
  ['bad endpoint GUID', { networkAdapters: [{ endpointId: 'x' }] }, 'networkAdapters[0].endpointId'],
  [
    'bad MAC',
    { networkAdapters: [{ endpointId: ENDPOINT, macAddress: '00:15' }] },
    'networkAdapters[0].macAddress',
  ],
  [
    'duplicate adapter names',
    { networkAdapters: [{ endpointId: ENDPOINT }, { endpointId: ENDPOINT }] },
    'networkAdapters[1]',
  ],
  ['restore with both', { restore: { templateSystemId: 'a', saveStateFilePath: 'C:\\s.vmrs' } }, 'restore'],
  ['restore with neither', { restore: {} }, 'restore'],
  [
    'relative guest state file',
    { guestState: { guestStateFilePath: 'vm.vmgs' } },
    'guestState.guestStateFilePath',
  ],
  ['unknown GPU mode', { gpu: { assignmentMode: 'All' } }, 'gpu.assignmentMode'],
  ['GPU list without devices', { gpu: { assignmentMode: 'List', devices: {} } }, 'gpu.devices'],
  ['GPU devices outside List mode', { gpu: { assignmentMode: 'Mirror', devices: { x: 1 } } }, 'gpu.devices'],
  [
    'GPU partition out of range',
    { gpu: { assignmentMode: 'List', devices: { x: 70000 } } },
    'gpu.devices[x]',
  ],
  ['unknown launch type', { launchType: 'Sandbox' }, 'launchType'],
  [
    'bad default bind SDDL',
    { hvSocket: { defaultBindSecurityDescriptor: 'all' } },
    'hvSocket.defaultBindSecurityDescriptor',
  ],
  ['scsi controller with slash', { scsiControllerName: 'a/b' }, 'scsiControllerName'],
  ['unknown caching mode', { scratchCachingMode: 'WriteBack' }, 'scratchCachingMode'],
  ['relative silo base', { runInSilo: { siloBaseOsPath: 'Files' } }, 'runInSilo.siloBaseOsPath'],
];

describe('buildSandboxVm rejects', () => {
  it.each(VM_CASES)('%s', (_name, patch, field) => {
    expect(fieldOf(() => buildSandboxVm({ ...vmBase, ...patch }))).toBe(field);
  });
});

const PARAM_CASES: Array<[string, ProcessParametersOptions | Any, string]> = [
  ['neither argv nor commandLine', {}, 'argv'],
  ['both argv and commandLine', { argv: ['a'], commandLine: 'a' }, 'argv'],
  ['empty argv', { argv: [] }, 'argv'],
  ['quote in program name', { argv: ['a"b'] }, 'argv[0]'],
  ['empty command line', { commandLine: '' }, 'commandLine'],
  ['relative working directory', { argv: ['a'], workingDirectory: 'work' }, 'workingDirectory'],
  ['env name with =', { argv: ['a'], environment: { 'A=B': 'x' } }, 'environment.<name>'],
  ['env value not a string', { argv: ['a'], environment: { A: 1 } }, 'environment.A'],
  ['console size without console', { argv: ['a'], consoleSize: { height: 1, width: 1 } }, 'consoleSize'],
  [
    'console size zero',
    { argv: ['a'], emulateConsole: true, consoleSize: { height: 0, width: 80 } },
    'consoleSize.height',
  ],
  [
    'console size too big',
    { argv: ['a'], emulateConsole: true, consoleSize: { height: 30, width: 70000 } },
    'consoleSize.width',
  ],
  [
    'stderr pipe with console',
    { argv: ['a'], emulateConsole: true, createStdErrPipe: true },
    'createStdErrPipe',
  ],
  ['stdin not boolean', { argv: ['a'], createStdInPipe: 'yes' }, 'createStdInPipe'],
  ['user with control char', { argv: ['a'], user: 'a\tb' }, 'user'],
  ['command line too long', { argv: ['a', 'x'.repeat(33000)] }, 'argv'],
];

describe('buildProcessParameters rejects', () => {
  it.each(PARAM_CASES)('%s', (_name, options, field) => {
    expect(fieldOf(() => buildProcessParameters(options))).toBe(field);
  });
});

describe('modify, query and option builders reject', () => {
  it.each([
    [
      'mapped dir relative host path',
      () => addMappedDirectoryRequest({ hostPath: 'a', containerPath: 'C:\\a' }),
      'hostPath',
    ],
    [
      'mapped dir relative target',
      () => addMappedDirectoryRequest({ hostPath: 'C:\\a', containerPath: 'a' }),
      'containerPath',
    ],
    [
      'mapped dir missing host path',
      () => addMappedDirectoryRequest({ hostPath: 'C:\\a', containerPath: 'C:\\a' }, { pathExists: missing }),
      'hostPath',
    ],
    ['VSMB bad name', () => addVsmbShareRequest({ name: '', hostPath: 'C:\\a' }), 'share.name'],
    ['VSMB relative path', () => addVsmbShareRequest({ name: 's', hostPath: 'a' }), 'share.hostPath'],
    ['VSMB remove bad name', () => removeVsmbShareRequest('a b'), 'name'],
    ['NIC bad endpoint', () => addNetworkAdapterRequest({ endpointId: 'x' }), 'adapter.endpointId'],
    ['NIC remove bad name', () => removeNetworkAdapterRequest('a/b'), 'name'],
    ['memory unknown target', () => setMemoryRequest('silo' as Any, 1024), 'target'],
    ['VM memory below minimum', () => setMemoryRequest('vm', 512), 'sizeInMB'],
    ['container memory below minimum', () => setMemoryRequest('container', 100), 'sizeInMB'],
    ['VM memory above host', () => setMemoryRequest('vm', 8192, { memoryMB: 4096 }), 'sizeInMB'],
    ['container CPU exclusive', () => setContainerProcessorRequest({ count: 1, weight: 1 }), 'processor'],
    [
      'container CPU above host',
      () => setContainerProcessorRequest({ count: 4 }, { logicalProcessorCount: 2 }),
      'processor.count',
    ],
    ['GPU unknown mode', () => setGpuRequest({ assignmentMode: 'On' as Any }), 'gpu.assignmentMode'],
    ['SCSI bad LUN', () => addScsiDiskRequest({ controller: 'c', lun: 64, path: 'C:\\a.vhdx' }), 'lun'],
    ['SCSI relative path', () => addScsiDiskRequest({ controller: 'c', lun: 1, path: 'a.vhdx' }), 'path'],
    ['property query unknown type', () => buildPropertyQuery(['Everything' as Any]), 'propertyTypes[0]'],
    ['service query empty', () => buildServicePropertyQuery([]), 'propertyTypes'],
    ['service query unknown', () => buildServicePropertyQuery(['Memory' as Any]), 'propertyTypes[0]'],
    ['system query unknown type', () => buildSystemQuery({ types: ['Silo' as Any] }), 'types[0]'],
    ['system query empty owner', () => buildSystemQuery({ owners: [''] }), 'owners[0]'],
    ['shutdown unknown mechanism', () => buildShutdownOptions({ mechanism: 'Acpi' as Any }), 'mechanism'],
    ['shutdown unknown type', () => buildShutdownOptions({ type: 'Halt' as Any }), 'type'],
    ['save unknown type', () => buildSaveOptions({ saveType: 'ToDisk' as Any }), 'saveType'],
    ['save to file without path', () => buildSaveOptions({ saveType: 'ToFile' }), 'saveStateFilePath'],
    [
      'save to relative path',
      () => buildSaveOptions({ saveType: 'ToFile', saveStateFilePath: 's.vmrs' }),
      'saveStateFilePath',
    ],
    ['pause unknown level', () => buildPauseOptions({ suspensionLevel: 'Deep' as Any }), 'suspensionLevel'],
    ['pause unknown reason', () => buildPauseOptions({ reason: 'Nap' as Any }), 'reason'],
    ['signal unknown', () => buildSignalOptions('SIGTERM' as Any), 'signal'],
    ['console resize zero', () => buildConsoleResizeRequest({ height: 0, width: 10 }), 'size.height'],
    ['close unknown handle', () => buildCloseHandleRequest('StdAll' as Any), 'handle'],
  ] as Array<[string, () => unknown, string]>)('%s', (_name, fn, field) => {
    expect(fieldOf(fn)).toBe(field);
  });
});
