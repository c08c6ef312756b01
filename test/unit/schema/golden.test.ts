import { describe, expect, it } from 'vitest';
import {
  buildHypervContainer,
  buildProcessContainer,
  buildSandboxVm,
  createHcsValidator,
} from '../../../src/schema/index.js';
import { HCSSHIM_HOSTED_CONTAINER_DOCUMENT, HCSSHIM_WCOW_UVM_DOCUMENT } from './fixtures/hcsshim-wcow.js';
import { PROCESS_CONTAINER_DOCUMENT } from './fixtures/process-container.js';
import { WINDOWS_SANDBOX_DOCUMENT } from './fixtures/windows-sandbox.js';

/** Every leaf path where `a` and `b` differ (objects compared by key, arrays by index). */
function diff(a: unknown, b: unknown, path = ''): string[] {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    if (Array.isArray(a) !== Array.isArray(b)) return [path || '/'];
    return [...keys].flatMap((k) =>
      diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`),
    );
  }
  return Object.is(a, b) ? [] : [path || '/'];
}

function expectGolden(actual: unknown, expected: unknown, excluded: Record<string, string>): void {
  const differences = diff(actual, expected);
  const unexplained = differences.filter(
    (p) => !Object.keys(excluded).some((e) => p === e || p.startsWith(`${e}/`)),
  );
  expect(unexplained).toEqual([]);
  // Every exclusion must still be needed, so the list cannot rot.
  for (const e of Object.keys(excluded)) {
    expect(
      differences.some((p) => p === e || p.startsWith(`${e}/`)),
      `exclusion ${e} no longer needed`,
    ).toBe(true);
  }
}

const USER = 'S-1-5-21-646084236-3208304814-2060474565-1001';
const SBX =
  'C:\\ProgramData\\Microsoft\\Windows\\Containers\\Sandboxes\\b0fb4acc-07e5-46f7-9f34-8368cc2fde83';
const BASE =
  'C:\\ProgramData\\Microsoft\\Windows\\Containers\\BaseImages\\134ac1c6-9de2-465e-9f16-570f0066c8a5\\BaseLayer\\Files';
const DENY_ALL = {
  bindSecurityDescriptor: 'D:P(D;;FA;;;WD)',
  connectSecurityDescriptor: 'D:P(D;;FA;;;WD)',
  allowWildcardBinds: true,
};
const SERVICE_SID = 'D:P(A;;FA;;;S-1-5-80-3635958274-2059881490-2225992882-984577281-633327304)';

describe('golden documents', () => {
  it('Windows Sandbox (MouriDocs docs/4) — buildSandboxVm with equivalent options', () => {
    const { document, afterStart } = buildSandboxVm({
      owner: 'Madrid',
      schemaVersion: { Major: 2, Minor: 4 },
      baseImagePath: BASE,
      scratchVhdxPath: `${SBX}\\sandbox.vhdx`,
      scsiControllerName: 'primary',
      scratchCachingMode: 'ReadOnlyCached',
      scratchSupportCompressedVolumes: true,
      memoryMB: 1024,
      memory: {
        backing: 'Virtual',
        backingPageSize: 'Small',
        faultClusterSizeShift: 4,
        directMapFaultClusterSizeShift: 4,
        enablePrivateCompressionStore: true,
        enableHotHint: true,
        enableColdHint: true,
        sharedMemoryMB: 2048,
        sharedMemoryAccessSids: [USER],
        enableEpf: true,
        enableDeferredCommit: true,
      },
      processorCount: 2,
      processor: {
        synchronizeHostFeatures: true,
        enableSchedulerAssist: true,
        defaultVpCpuPriority: 10,
        enableProcessorIdling: true,
      },
      hvSocket: {
        defaultBindSecurityDescriptor: 'D:P(A;;FA;;;SY)',
        defaultConnectSecurityDescriptor: 'D:P(A;;FA;;;SY)',
        services: {
          'befcbc10-1381-45ab-946e-b1a12d6bce94': DENY_ALL,
          'a715ac94-b745-4889-9a0f-772d85a3cfa4': {
            bindSecurityDescriptor: SERVICE_SID,
            connectSecurityDescriptor: SERVICE_SID,
            allowWildcardBinds: true,
          },
          '7b3014c3-284a-40d4-a97f-9d23a75c6a80': DENY_ALL,
          'e97910d9-55bb-455e-9170-114fdfce763d': DENY_ALL,
          'e5afd2e3-9b98-4913-b37c-09de98772940': DENY_ALL,
          'abd802e8-ffcc-40d2-a5f1-f04b1d12cbc8': {
            bindSecurityDescriptor: `D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;S-1-15-3-3)(A;;FA;;;${USER})`,
            connectSecurityDescriptor: 'D:P(D;;FA;;;WD)',
          },
          'f58797f6-c9f3-4d63-9bd4-e52ac020e586': {
            bindSecurityDescriptor: 'D:P(A;;FA;;;SY)',
            connectSecurityDescriptor: 'D:P(A;;FA;;;SY)',
            allowWildcardBinds: true,
          },
        },
      },
      enhancedModeVideo: {
        namedPipe: '\\\\.\\pipe\\b0fb4acc-07e5-46f7-9f34-8368cc2fde83',
        accessSids: [USER],
      },
      crashDump: {
        dumpFileName:
          'C:\\ProgramData\\Microsoft\\Windows\\Containers\\Dumps\\b0fb4acc-07e5-46f7-9f34-8368cc2fde83.dmp',
        maxDumpSizeBytes: 4362076160,
        dumpType: 'Summary',
      },
      directFileMappingMB: 4096,
      battery: true,
      guestState: { guestStateFilePath: `${SBX}\\sandbox.vmgs` },
      restore: { templateSystemId: '48e7facb-2a65-4a83-bfef-03e3c2faae16' },
      runInSilo: { siloBaseOsPath: BASE, notifySiloJobCreated: true },
      launchType: 'None',
      guestConnection: { useConnectedSuspend: true, useHostTimeZone: true },
    });
    expect(afterStart).toEqual([]);
    const attachment = '/VirtualMachine/Devices/Scsi/primary/Attachments/0';
    expectGolden(document, WINDOWS_SANDBOX_DOCUMENT, {
      [`${attachment}/NoWriteHardening`]: 'undocumented attachment flag; not in the schema or the extensions',
      [`${attachment}/DisableExpansionOptimization`]: 'undocumented attachment flag',
      [`${attachment}/IgnoreRelativeLocator`]: 'undocumented attachment flag',
      [`${attachment}/CaptureIoAttributionContext`]: 'undocumented attachment flag',
      '/VirtualMachine/Devices/Scsi/primary/DisableInterruptBatching':
        'interrupt-batching tuning is not exposed',
      '/VirtualMachine/Devices/Licensing': 'Sandbox-internal licensing device (Store package families)',
      '/VirtualMachine/Devices/KernelIntegration': 'Sandbox-internal device, undocumented',
    });
  });

  it('hcsshim WCOW utility VM — buildHypervContainer().uvm', () => {
    const { uvm } = buildHypervContainer({
      owner: 'my-sandbox-lib',
      uvmId: 'sbx-01-uvm',
      utilityVmFilesPath: 'C:\\ProgramData\\mylib\\layers\\base\\UtilityVM\\Files',
      uvmScratchVhdxPath: 'C:\\ProgramData\\mylib\\uvm\\sbx-01\\sandbox.vhdx',
      layers: [{ id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: 'C:\\ProgramData\\mylib\\layers\\base' }],
      containerScratchVhdxPath: 'C:\\ProgramData\\mylib\\containers\\c1\\sandbox.vhdx',
    });
    expectGolden(uvm, HCSSHIM_WCOW_UVM_DOCUMENT, {});
  });

  it('hcsshim hosted container — buildHypervContainer().container', () => {
    const { container, prepareRequests } = buildHypervContainer({
      owner: 'my-sandbox-lib',
      uvmId: 'sbx-01-uvm',
      utilityVmFilesPath: 'C:\\ProgramData\\mylib\\layers\\base\\UtilityVM\\Files',
      uvmScratchVhdxPath: 'C:\\ProgramData\\mylib\\uvm\\sbx-01\\sandbox.vhdx',
      layers: [{ id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: 'C:\\ProgramData\\mylib\\layers\\base' }],
      containerScratchVhdxPath: 'C:\\ProgramData\\mylib\\containers\\c1\\sandbox.vhdx',
      guestRootPath: 'C:\\c\\c1\\scratch',
      hostName: 'sbx-01',
      mappedDirectories: [{ hostPath: 'C:\\work\\in', containerPath: 'C:\\in', readOnly: true }],
      networking: { namespaceId: 'd7c0c0a4-1f0e-4c8e-9d0b-2f1e3a4b5c6d' },
    });
    expectGolden(container, HCSSHIM_HOSTED_CONTAINER_DOCUMENT, {});
    // The §5b(2) preparation: layer share, mapped share, scratch disk + guest mount, combined layers.
    expect(prepareRequests.map((r) => r.ResourcePath ?? `guest:${r.GuestRequest?.ResourceType}`)).toEqual([
      'VirtualMachine/Devices/VirtualSmb/Shares',
      'VirtualMachine/Devices/VirtualSmb/Shares',
      'VirtualMachine/Devices/Scsi/df6d0690-79e5-55b6-a5ec-c1e2f77f580a/Attachments/1',
      'guest:CombinedLayers',
    ]);
  });

  it('process-isolated container (§5a) — buildProcessContainer', () => {
    const doc = buildProcessContainer({
      owner: 'my-sandbox-lib',
      hostName: 'sbx-01',
      layers: [
        { id: '8a3cbd3c-6b7e-5d1f-9c3e-2a1f4b5c6d7e', path: 'C:\\ProgramData\\mylib\\layers\\app' },
        { id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: 'C:\\ProgramData\\mylib\\layers\\base' },
      ],
      scratchPath: '\\\\?\\Volume{5f0e3b2a-9c1d-11ee-8c90-0242ac120002}\\',
      mappedDirectories: [
        { hostPath: 'C:\\work\\in', containerPath: 'C:\\in', readOnly: true },
        { hostPath: 'C:\\work\\out', containerPath: 'C:\\out', readOnly: false },
      ],
      mappedPipes: [{ containerPipeName: 'myagent', hostPath: '\\\\.\\pipe\\myagent-sbx-01' }],
      networking: {
        namespaceId: 'd7c0c0a4-1f0e-4c8e-9d0b-2f1e3a4b5c6d',
        dnsSearchList: ['corp.example.com', 'example.com'],
      },
      processor: { count: 2 },
      memoryMB: 2048,
    });
    expectGolden(doc, PROCESS_CONTAINER_DOCUMENT, {});
  });

  it('the public documents themselves pass the strict validator except for their undocumented fields', () => {
    const v = createHcsValidator();
    expect(v.validate('ComputeSystem', HCSSHIM_WCOW_UVM_DOCUMENT).errors).toEqual([]);
    expect(v.validate('ComputeSystem', HCSSHIM_HOSTED_CONTAINER_DOCUMENT).errors).toEqual([]);
    expect(v.validate('ComputeSystem', PROCESS_CONTAINER_DOCUMENT).errors).toEqual([]);
    expect(v.validate('ComputeSystem', WINDOWS_SANDBOX_DOCUMENT).errors.sort()).toEqual(
      [
        '/VirtualMachine/Devices: unknown property "KernelIntegration"',
        '/VirtualMachine/Devices: unknown property "Licensing"',
        '/VirtualMachine/Devices/Scsi/primary/Attachments/0: unknown property "CaptureIoAttributionContext"',
        '/VirtualMachine/Devices/Scsi/primary/Attachments/0: unknown property "DisableExpansionOptimization"',
        '/VirtualMachine/Devices/Scsi/primary/Attachments/0: unknown property "IgnoreRelativeLocator"',
        '/VirtualMachine/Devices/Scsi/primary/Attachments/0: unknown property "NoWriteHardening"',
      ].sort(),
    );
  });
});
