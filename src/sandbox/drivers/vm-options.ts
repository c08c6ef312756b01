import { InvalidArgumentError } from '../../internal/errors.js';
import {
  MIN_DESKTOP_VM_MEMORY_MB,
  type ModifySettingRequestDocument,
  setMemoryRequest,
} from '../../schema/index.js';
import type { HostFacts } from '../host.js';
import type { NormalisedOptions } from '../options.js';
import type { Limits } from './driver.js';

/** Why the options that act inside the guest wait: one sentence every refusal shares. */
const NEEDS_AGENT = "reaches a VM through hcs-sandbox's guest agent, which does not take it at create yet";

/**
 * What a `vm` sandbox honours today: memory, processors (count, cap or
 * weight), storage IO limits, the network (`none`, or `nat` with published
 * ports: HCN's NAT port mappings belong to the endpoint, whichever kind of
 * system its adapter is in), name, owner, persistence, and the environment and
 * working folder every command gets (the guest agent takes them per command,
 * and `Sandbox` adds the sandbox's to each, as for containers). Mapped folders
 * and a host name act on the guest itself: refused here, before anything is
 * resolved or created.
 */
export function checkVmOptions(o: NormalisedOptions): void {
  if (o.mappedFolders.length > 0) {
    throw new InvalidArgumentError(
      'mappedFolders',
      'none with vm isolation',
      o.mappedFolders.map((f) => f.hostPath),
      `a mapped folder ${NEEDS_AGENT} (part 2 of the VM work); use process or hyperv isolation for folders`,
    );
  }
  if (o.hostName !== undefined) {
    throw new InvalidArgumentError(
      'hostName',
      'no host name with vm isolation',
      o.hostName,
      "a VM's computer name is the one its image's setup gave it",
    );
  }
  if (o.network !== 'none' && o.network !== 'nat') {
    throw new InvalidArgumentError(
      'network',
      "'nat' or 'none' with vm isolation",
      o.network,
      'the isolated and internal modes are not checked with VMs yet',
    );
  }
  if (o.memoryMB !== undefined) checkVmMemory(o.memoryMB);
}

function checkVmMemory(memoryMB: number): void {
  if (memoryMB < MIN_DESKTOP_VM_MEMORY_MB) {
    throw new InvalidArgumentError(
      'memoryMB',
      `at least ${MIN_DESKTOP_VM_MEMORY_MB} MB with vm isolation (Windows Sandbox's minimum for a Windows desktop)`,
      memoryMB,
    );
  }
}

/**
 * The limits a running VM takes: its memory size (HCS's
 * `VirtualMachine/ComputeTopology/Memory/SizeInMB`). Its processors are part
 * of the VM's hardware, fixed while it runs: refused, with what to do.
 */
export function vmLimitRequests(limits: Limits, host: HostFacts): ModifySettingRequestDocument[] {
  for (const field of ['cpus', 'cpuLimit'] as const) {
    if (limits[field] !== undefined) {
      throw new InvalidArgumentError(
        field,
        'memoryMB only, on a running vm sandbox',
        limits[field],
        "a VM's processors are fixed while it runs: stop it and create it again with the new value",
      );
    }
  }
  if (limits.memoryMB === undefined) return [];
  checkVmMemory(limits.memoryMB);
  return [setMemoryRequest('vm', limits.memoryMB, { memoryMB: host.memoryMB })];
}
