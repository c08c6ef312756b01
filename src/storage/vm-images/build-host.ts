import type { FreeSpace } from '../space.js';

/** What a finished program said. */
export interface CommandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** This build's VHDX, attached: closing the handle detaches it (not attached with PERMANENT_LIFETIME). */
export interface AttachedVhdx {
  /** `GetVirtualDiskPhysicalPath`: `\\.\PhysicalDriveN`, asked anew on each call. */
  physicalPath(): Promise<string>;
  /** `DetachVirtualDisk`, then closes the handle. */
  detach(): Promise<void>;
  /** Closes the handle (which detaches the disk) without failing. */
  close(): Promise<void>;
}

export interface MountedIso {
  /** The mounted volume's root (`E:\`). */
  root: string;
  dismount(): Promise<void>;
}

/**
 * Everything an image build does to the host, behind one interface: the
 * Windows implementation (windows-build-host.ts) runs programs and calls
 * virtdisk; tests pass a fake that records. Paths are the plan's (Windows
 * paths on Windows).
 */
export interface BuildHost {
  /** `%SystemRoot%\System32`: where the host's diskpart, Dism, bcdboot and icacls live. */
  readonly system32: string;
  /** Throws ElevationRequiredError unless this process is an elevated administrator. */
  requireElevation(operation: string): void;
  freeSpace(path: string): Promise<FreeSpace>;
  run(argv: readonly string[]): Promise<CommandOutcome>;
  createFixedVhdx(path: string, sizeBytes: number): Promise<void>;
  attachVhdx(path: string): Promise<AttachedVhdx>;
  /** A drive letter no volume uses (the ESP's while the build runs). */
  freeDriveLetter(): Promise<string>;
  /** Mounts an ISO read-only and returns its volume root. */
  mountIso(path: string): Promise<MountedIso>;
  diskSize(number: number): Promise<number>;
  diskNumberOfPath(path: string): Promise<number | undefined>;
  writeFile(path: string, text: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  mkdir(path: string): Promise<void>;
  removeFile(path: string): Promise<void>;
  fileSize(path: string): Promise<number>;
}

let override: BuildHost | undefined;

/** The build host: the installed override (tests), else the Windows one, loaded on first use. */
export async function buildHost(): Promise<BuildHost> {
  if (override) return override;
  const { WindowsBuildHost } = await import('./windows-build-host.js');
  return new WindowsBuildHost();
}

/** Replaces the build host (tests, the CLI's tests), or restores the Windows one with `undefined`. */
export function setBuildHost(host: BuildHost | undefined): void {
  override = host;
}
