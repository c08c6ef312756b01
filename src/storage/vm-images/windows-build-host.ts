import { spawn } from 'node:child_process';
import { copyFile, mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, win32 } from 'node:path';
import {
  AttachVirtualDiskFlag,
  CreateVirtualDiskFlag,
  storageBindings,
  VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT,
  type VirtDiskApi,
  type VirtualDiskHandle,
  VirtualStorageDeviceType,
} from '../../native/index.js';
import { requireElevation } from '../privileges.js';
import { freeSpace } from '../space.js';
import type { AttachedVhdx, BuildHost, CommandOutcome, MountedIso } from './build-host.js';

const VHDX = { deviceId: VirtualStorageDeviceType.Vhdx, vendorId: VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT };
/** What a tool's output may grow to in memory (DISM prints a progress bar per percent). */
const OUTPUT_CAP = 64 * 1024;

function win32Failure(call: string, error: number): Error {
  return new Error(`${call} failed with Win32 error ${error}`);
}

/** A PowerShell single-quoted string (a `'` is doubled; the plan refuses control characters). */
function psQuote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The image build's host on Windows: the host's own tools run as child
 * processes (their exit code decides), virtdisk through koffi for the VHDX,
 * and PowerShell's Storage module for the questions the disk guard asks
 * (Get-Disk, Get-Partition) and for mounting an ISO.
 *
 * Why Mount-DiskImage for an ISO rather than virtdisk's ISO attach
 * (VIRTUAL_STORAGE_TYPE_DEVICE_ISO): an ISO attached through virtdisk shows
 * up as `\\.\CdRomN`, and finding that device's volume needs the volume
 * enumeration calls (FindFirstVolumeW, QueryDosDeviceW) we do not bind;
 * Mount-DiskImage (the same virtdisk underneath) answers with the volume's
 * drive letter in one call, and Dismount-DiskImage undoes it.
 */
export class WindowsBuildHost implements BuildHost {
  readonly system32 = win32.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32');
  #virtDisk: VirtDiskApi | undefined;

  get #vd(): VirtDiskApi {
    this.#virtDisk ??= storageBindings().virtDisk;
    return this.#virtDisk;
  }

  requireElevation(operation: string): void {
    requireElevation(operation);
  }

  freeSpace(path: string) {
    return freeSpace(path);
  }

  run(argv: readonly string[]): Promise<CommandOutcome> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const keep = (text: string, chunk: Buffer) => (text + chunk.toString('utf8')).slice(-OUTPUT_CAP);
      child.stdout.on('data', (chunk: Buffer) => (stdout = keep(stdout, chunk)));
      child.stderr.on('data', (chunk: Buffer) => (stderr = keep(stderr, chunk)));
      child.on('error', reject);
      child.on('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
    });
  }

  async #powershell(command: string): Promise<string> {
    const outcome = await this.run([
      win32.join(this.system32, 'WindowsPowerShell', 'v1.0', 'powershell.exe'),
      '-NoProfile',
      '-NonInteractive',
      '-Command',
      `$ErrorActionPreference = 'Stop'; ${command}`,
    ]);
    if (outcome.exitCode !== 0)
      throw new Error(`PowerShell ${command} exited with ${outcome.exitCode}: ${outcome.stderr.trim()}`);
    return outcome.stdout.trim();
  }

  async createFixedVhdx(path: string, sizeBytes: number): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const { error, handle } = await this.#vd.createVirtualDisk(path, {
      maximumSizeBytes: BigInt(sizeBytes),
      flags: CreateVirtualDiskFlag.FullPhysicalAllocation,
      storageType: VHDX,
    });
    if (error !== 0 || !handle) throw win32Failure('CreateVirtualDisk', error);
    await this.#vd.closeHandle(handle);
  }

  async attachVhdx(path: string): Promise<AttachedVhdx> {
    const vd = this.#vd;
    const { error, handle } = await vd.openVirtualDisk(path, { storageType: VHDX });
    if (error !== 0 || !handle) throw win32Failure('OpenVirtualDisk', error);
    const attached = await vd.attachVirtualDisk(handle, AttachVirtualDiskFlag.NoDriveLetter);
    if (attached !== 0) {
      await vd.closeHandle(handle);
      throw win32Failure('AttachVirtualDisk', attached);
    }
    let open: VirtualDiskHandle | undefined = handle;
    const close = async () => {
      if (open !== undefined) await vd.closeHandle(open).catch(() => false);
      open = undefined;
    };
    return {
      physicalPath: async () => {
        if (open === undefined) throw new Error('the VHDX handle is closed');
        const result = await vd.getVirtualDiskPhysicalPath(open);
        if (result.error !== 0 || !result.path)
          throw win32Failure('GetVirtualDiskPhysicalPath', result.error);
        return result.path;
      },
      detach: async () => {
        if (open === undefined) return;
        const detached = await vd.detachVirtualDisk(open);
        if (detached !== 0) throw win32Failure('DetachVirtualDisk', detached);
        await close();
      },
      close,
    };
  }

  async freeDriveLetter(): Promise<string> {
    const used = new Set(
      (await this.#powershell('[System.IO.DriveInfo]::GetDrives().Name'))
        .split(/\r?\n/)
        .map((line) => line.trim().charAt(0).toUpperCase()),
    );
    for (const letter of 'ZYXWVUTSRQPONMLKJIHGFED') if (!used.has(letter)) return letter;
    throw new Error('no drive letter is free for the ESP');
  }

  async mountIso(path: string): Promise<MountedIso> {
    const letter = await this.#powershell(
      `(Mount-DiskImage -ImagePath ${psQuote(path)} -StorageType ISO -Access ReadOnly -PassThru | Get-Volume).DriveLetter`,
    );
    if (!/^[A-Z]$/i.test(letter)) throw new Error(`Mount-DiskImage gave ${path} no drive letter (${letter})`);
    return {
      root: `${letter.toUpperCase()}:\\`,
      dismount: async () => {
        await this.#powershell(`Dismount-DiskImage -ImagePath ${psQuote(path)} | Out-Null`);
      },
    };
  }

  async diskSize(number: number): Promise<number> {
    return Number(await this.#powershell(`(Get-Disk -Number ${Math.trunc(number)}).Size`));
  }

  async diskNumberOfPath(path: string): Promise<number | undefined> {
    const letter = /^([A-Z]):\\?$/i.exec(path)?.[1];
    const folder = path.endsWith('\\') ? path : `${path}\\`;
    const query = letter
      ? `(Get-Partition -DriveLetter ${letter}).DiskNumber`
      : `(Get-Partition | Where-Object { $_.AccessPaths -contains ${psQuote(folder)} }).DiskNumber`;
    const text = await this.#powershell(query);
    return /^\d+$/.test(text) ? Number(text) : undefined;
  }

  async writeFile(path: string, text: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text, 'utf8');
  }

  async copyFile(from: string, to: string): Promise<void> {
    await mkdir(dirname(to), { recursive: true });
    await copyFile(from, to);
  }

  async exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  async mkdir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  removeFile(path: string): Promise<void> {
    return unlink(path);
  }

  async fileSize(path: string): Promise<number> {
    return (await stat(path)).size;
  }
}
