/**
 * The compute topology of a Windows-Sandbox-style VM (see sandbox-vm.ts): memory
 * and virtual processors. Its own module because the memory options check each
 * other (overcommit vs backing vs deferred commit) and that reads best alone.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type { MemoryBackingType, VirtualMachineExt } from '../extensions.js';
import type * as Hcs from '../generated/hcs.js';
import {
  checkArray,
  checkBoolean,
  checkEnum,
  type checkHost,
  checkInteger,
  checkMemoryMB,
  checkObject,
  checkProcessorCount,
  checkSid,
} from './common.js';
import { alignMemoryMB, MIN_VM_MEMORY_MB } from './vm-common.js';

export interface SandboxVmMemoryInput {
  /** Pageable memory (`AllowOvercommit`). Default true, unless `backing` is given. */
  allowOvercommit?: boolean;
  /** Commit memory as the guest touches it. Default true; needs overcommit / virtual backing. */
  enableDeferredCommit?: boolean;
  /** Default: same as overcommit. */
  enableHotHint?: boolean;
  /** Default: same as overcommit. */
  enableColdHint?: boolean;
  /** Extension (Windows 11 22H2+): `Backing`. */
  backing?: MemoryBackingType;
  backingPageSize?: Hcs.MemoryBackingPageSize;
  faultClusterSizeShift?: number;
  directMapFaultClusterSizeShift?: number;
  /** Extension: `EnablePrivateCompressionStore`. */
  enablePrivateCompressionStore?: boolean;
  /** Extension: `SharedMemoryMB`. */
  sharedMemoryMB?: number;
  /** Extension: `SharedMemoryAccessSids`. */
  sharedMemoryAccessSids?: string[];
  /** Extension: `EnableEpf`. */
  enableEpf?: boolean;
}

export interface SandboxVmProcessorInput {
  /** 1..100000 (100000 = 100 %). */
  limit?: number;
  /** 0..10000. */
  weight?: number;
  /** Extension fields Windows Sandbox sends. */
  synchronizeHostFeatures?: boolean;
  enableSchedulerAssist?: boolean;
  defaultVpCpuPriority?: number;
  enableProcessorIdling?: boolean;
}

function optionalBool(field: string, value: unknown): boolean | undefined {
  return value === undefined ? undefined : checkBoolean(field, value);
}

/** `ComputeTopology.Memory`: overcommit, backing and hints kept consistent with each other. */
export function buildMemory(
  o: { memoryMB?: number; memory?: SandboxVmMemoryInput },
  host: ReturnType<typeof checkHost>,
) {
  const m = (o.memory ?? {}) as SandboxVmMemoryInput;
  if (o.memory !== undefined) checkObject('memory', o.memory);
  const size = alignMemoryMB(
    o.memoryMB === undefined ? 2048 : checkMemoryMB('memoryMB', o.memoryMB, MIN_VM_MEMORY_MB, host),
  );
  const backing =
    m.backing === undefined
      ? undefined
      : checkEnum('memory.backing', m.backing, ['Physical', 'Virtual', 'Hybrid']);
  let overcommit = optionalBool('memory.allowOvercommit', m.allowOvercommit);
  if (overcommit === true && backing === 'Physical') {
    throw new InvalidArgumentError(
      'memory.allowOvercommit',
      'false or absent when backing is "Physical"',
      true,
    );
  }
  if (overcommit === undefined && backing === undefined) overcommit = true;
  const virtual = overcommit === true || backing === 'Virtual' || backing === 'Hybrid';
  const deferred = optionalBool('memory.enableDeferredCommit', m.enableDeferredCommit) ?? virtual;
  if (deferred && !virtual) {
    throw new InvalidArgumentError(
      'memory.enableDeferredCommit',
      'false when memory is physically backed (deferred commit needs overcommit)',
      deferred,
    );
  }
  const mem: NonNullable<NonNullable<VirtualMachineExt['ComputeTopology']>['Memory']> = { SizeInMB: size };
  if (overcommit !== undefined) mem.AllowOvercommit = overcommit;
  if (backing !== undefined) mem.Backing = backing;
  if (m.backingPageSize !== undefined) {
    mem.BackingPageSize = checkEnum('memory.backingPageSize', m.backingPageSize, ['Small', 'Large']);
  }
  if (m.faultClusterSizeShift !== undefined) {
    mem.FaultClusterSizeShift = checkInteger('memory.faultClusterSizeShift', m.faultClusterSizeShift, 0, 31);
  }
  if (m.directMapFaultClusterSizeShift !== undefined) {
    mem.DirectMapFaultClusterSizeShift = checkInteger(
      'memory.directMapFaultClusterSizeShift',
      m.directMapFaultClusterSizeShift,
      0,
      31,
    );
  }
  const priv = optionalBool('memory.enablePrivateCompressionStore', m.enablePrivateCompressionStore);
  if (priv !== undefined) mem.EnablePrivateCompressionStore = priv;
  mem.EnableHotHint = optionalBool('memory.enableHotHint', m.enableHotHint) ?? virtual;
  mem.EnableColdHint = optionalBool('memory.enableColdHint', m.enableColdHint) ?? virtual;
  if (m.sharedMemoryMB !== undefined) {
    mem.SharedMemoryMB = checkInteger('memory.sharedMemoryMB', m.sharedMemoryMB, 1, size * 64);
  }
  if (m.sharedMemoryAccessSids !== undefined) {
    checkArray('memory.sharedMemoryAccessSids', m.sharedMemoryAccessSids);
    mem.SharedMemoryAccessSids = m.sharedMemoryAccessSids.map((s, i) =>
      checkSid(`memory.sharedMemoryAccessSids[${i}]`, s),
    );
  }
  const epf = optionalBool('memory.enableEpf', m.enableEpf);
  if (epf !== undefined) mem.EnableEpf = epf;
  mem.EnableDeferredCommit = deferred;
  return mem;
}

/** `ComputeTopology.Processor`: count defaults to 2 (1 on a single-processor host). */
export function buildProcessor(
  o: { processorCount?: number; processor?: SandboxVmProcessorInput },
  host: ReturnType<typeof checkHost>,
) {
  const defaultCpus = host.logicalProcessorCount === 1 ? 1 : 2;
  const count =
    o.processorCount === undefined
      ? defaultCpus
      : checkProcessorCount('processorCount', o.processorCount, host);
  const proc: NonNullable<NonNullable<VirtualMachineExt['ComputeTopology']>['Processor']> = { Count: count };
  if (o.processor === undefined) return proc;
  checkObject('processor', o.processor);
  const p = o.processor;
  if (p.limit !== undefined) proc.Limit = checkInteger('processor.limit', p.limit, 1, 100000);
  if (p.weight !== undefined) proc.Weight = checkInteger('processor.weight', p.weight, 0, 10000);
  const sync = optionalBool('processor.synchronizeHostFeatures', p.synchronizeHostFeatures);
  if (sync !== undefined) proc.SynchronizeHostFeatures = sync;
  const assist = optionalBool('processor.enableSchedulerAssist', p.enableSchedulerAssist);
  if (assist !== undefined) proc.EnableSchedulerAssist = assist;
  if (p.defaultVpCpuPriority !== undefined) {
    proc.DefaultVpCpuPriority = checkInteger('processor.defaultVpCpuPriority', p.defaultVpCpuPriority, 0, 31);
  }
  const idling = optionalBool('processor.enableProcessorIdling', p.enableProcessorIdling);
  if (idling !== undefined) proc.EnableProcessorIdling = idling;
  return proc;
}
