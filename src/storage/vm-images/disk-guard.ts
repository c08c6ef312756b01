import { DiskGuardError } from './build-errors.js';
import type { DiskTarget } from './build-plan.js';

/**
 * What the guard asks the host, each time, right before a destructive step:
 * nothing is cached, so a disk renumbered since the last step is caught too.
 * disco-vm's `Assert-OurDisk` (pkg/machine/hcs/install.ps1) is the precedent.
 */
export interface DiskProbe {
  /** `GetVirtualDiskPhysicalPath` of this build's own open VHDX handle (`\\.\PhysicalDriveN`). */
  ourPhysicalPath(): Promise<string>;
  /** The size in bytes of disk `number` as Windows sees it. */
  diskSize(number: number): Promise<number>;
  /** The disk number of the volume mounted at `path` (a drive root or mount folder), if any. */
  diskNumberOfPath(path: string): Promise<number | undefined>;
}

const PHYSICAL_DRIVE = /^\\\\\.\\PhysicalDrive(\d+)$/i;

export function diskNumberOf(physicalPath: string): number | undefined {
  const match = PHYSICAL_DRIVE.exec(physicalPath);
  return match ? Number(match[1]) : undefined;
}

/**
 * Refuses (DiskGuardError) unless `target` is the disk this build attached and
 * that disk is exactly the VHDX's capacity. Returns the disk number checked.
 */
export async function assertOurDisk(
  step: string,
  target: DiskTarget,
  capacityBytes: number,
  probe: DiskProbe,
): Promise<number> {
  const physical = await probe.ourPhysicalPath();
  const ours = diskNumberOf(physical);
  if (ours === undefined)
    throw new DiskGuardError(
      step,
      `this build's VHDX reports ${JSON.stringify(physical)}, not \\\\.\\PhysicalDriveN`,
    );
  let targeted: number | undefined;
  let what: string;
  if ('disk' in target) {
    targeted = target.disk;
    what = `disk ${target.disk}`;
  } else {
    targeted = await probe.diskNumberOfPath(target.path);
    what = `the volume at ${target.path}`;
    if (targeted === undefined) throw new DiskGuardError(step, `${what} is on no disk Windows can name`);
  }
  if (targeted !== ours)
    throw new DiskGuardError(step, `${what} is disk ${targeted}, but this build's VHDX is disk ${ours}`);
  const size = await probe.diskSize(ours);
  if (size !== capacityBytes)
    throw new DiskGuardError(
      step,
      `disk ${ours} has ${size} bytes, the VHDX this build created has ${capacityBytes}`,
    );
  return ours;
}
