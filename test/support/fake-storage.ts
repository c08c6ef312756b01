import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import type {
  CreateVirtualDiskOptions,
  DiskHandleResult,
  HResult,
  OpenVirtualDiskOptions,
  SecurityApi,
  StorageApi,
  StorageBindings,
  VirtDiskApi,
  VirtualDiskHandle,
  Win32Error,
} from '../../src/native/index.js';

/**
 * In-memory computestorage.dll + virtdisk.dll. Disks are real (small) files so
 * folder scans and sizes work; handles, attachments and filters live in a
 * ledger so a test can prove nothing was left behind. Faults fail the n-th call
 * of a function with a chosen code, like the simulated DLLs' InjectFault.
 */

export const ERROR_FILE_NOT_FOUND = 2;
export const ERROR_INVALID_HANDLE = 6;
export const ERROR_NOT_FOUND = 1168;
export const ERROR_FILE_EXISTS = 80;
const E_NOTFOUND = 0x80070490 | 0;
const E_INVALIDARG = 0x80070057 | 0;
const E_PRIVILEGE_NOT_HELD = 0x80070522 | 0;

export interface FakeCall {
  fn: string;
  args: unknown[];
}

interface Fault {
  fn: string;
  nth: number;
  /** An HRESULT for computestorage functions, a Win32 code for virtdisk ones; `throw` rejects instead. */
  code: number | 'throw';
  seen: number;
}

export interface FakeStorageLedger {
  liveHandles: number;
  handlesOpened: number;
  attachedDisks: string[];
  attachedFilters: string[];
}

export class FakeStorage implements StorageBindings {
  readonly calls: FakeCall[] = [];
  /** The advapi32 calls (kept apart so storage call sequences read as before). */
  readonly securityCalls: FakeCall[] = [];
  readonly #handles = new Map<bigint, string>();
  #nextHandle = 0x1000n;
  #handlesOpened = 0;
  /** vhdx path -> volume path, for attached disks (PERMANENT_LIFETIME: survives handle close). */
  readonly #attached = new Map<string, string>();
  readonly #filters = new Set<string>();
  readonly #faults: Fault[] = [];
  #volumes = 0;
  /** Functions this "build" does not export. */
  readonly missing = new Set<string>();

  readonly storage: StorageApi;
  readonly virtDisk: VirtDiskApi;
  /** The process token (advapi32); install it with `setSecurityBindings(fake.security)`. */
  readonly security: SecurityApi;
  /** What the fake token is: elevated administrator holding every privilege unless a test says otherwise. */
  readonly token = {
    elevated: true,
    administrators: true,
    held: new Set(['SeBackupPrivilege', 'SeRestorePrivilege', 'SeManageVolumePrivilege']),
    enabled: new Set<string>(),
  };
  /** Paths whose next `n` HcsDestroyLayer calls succeed and leave the folder (hcsctl: it can). */
  readonly destroyLeaves = new Map<string, number>();

  /**
   * With a folder, attached disks get real volume folders under it (what a
   * volume GUID path is on Windows: a path that exists while the disk is
   * attached), for code that checks or reads the volume.
   */
  readonly #volumeRoot: string | undefined;
  /** False: HcsGetLayerVhdMountPath answers without the trailing separator. */
  readonly #trailingSeparator: boolean;

  constructor(options: { volumeRoot?: string; trailingSeparator?: boolean } = {}) {
    this.#volumeRoot = options.volumeRoot;
    this.#trailingSeparator = options.trailingSeparator ?? true;
    this.storage = this.#storage();
    this.virtDisk = this.#virtDisk();
    this.security = this.#security();
  }

  #security(): SecurityApi {
    return {
      processToken: (privileges) => {
        this.securityCalls.push({ fn: 'GetTokenInformation', args: [...privileges] });
        const { elevated, administrators, held, enabled } = this.token;
        return {
          elevated,
          administrators,
          privileges: Object.fromEntries(
            privileges.map((p) => [p, { held: held.has(p), enabled: enabled.has(p) }]),
          ),
        };
      },
      enableProcessPrivileges: (privileges) => {
        this.securityCalls.push({ fn: 'AdjustTokenPrivileges', args: [...privileges] });
        for (const p of privileges) if (this.token.held.has(p)) this.token.enabled.add(p);
        return privileges.filter((p) => !this.token.held.has(p));
      },
    };
  }

  /** Whether both backup and restore are enabled: real HCS refuses import/export/destroy otherwise. */
  #privileged(): boolean {
    return this.token.enabled.has('SeBackupPrivilege') && this.token.enabled.has('SeRestorePrivilege');
  }

  /** Fails the next `times` calls of `fn` with `code` (as a filter that refuses to detach for a while). */
  refuse(fn: string, code: number, times: number): void {
    // A fault counts only the calls that reach it, so each next one fires on its first.
    for (let i = 0; i < times; i++) this.fail(fn, code, 1);
  }

  /** Fails the `nth` (1-based) call of `fn` from now on with `code`. */
  fail(fn: string, code: number | 'throw', nth = 1): void {
    this.#faults.push({ fn, nth, code, seen: 0 });
  }

  ledger(): FakeStorageLedger {
    return {
      liveHandles: this.#handles.size,
      handlesOpened: this.#handlesOpened,
      attachedDisks: [...this.#attached.keys()],
      attachedFilters: [...this.#filters],
    };
  }

  /** Function names in call order. */
  sequence(): string[] {
    return this.calls.map((c) => c.fn);
  }

  /** The process that held the handles died: they close, PERMANENT_LIFETIME attachments and filters stay. */
  processExited(): void {
    this.#handles.clear();
  }

  /** Forgets every handle and attachment, as if the machine restarted (disk files stay). */
  reboot(): void {
    this.#handles.clear();
    this.#attached.clear();
    this.#filters.clear();
  }

  #newVolume(): string {
    const n = ++this.#volumes;
    if (this.#volumeRoot === undefined) return `\\\\?\\Volume{fake-${n}}\\`;
    const volume = join(this.#volumeRoot, `Volume{fake-${n}}`);
    mkdirSync(volume, { recursive: true });
    return `${volume}${sep}`; // the root folder of the volume, as Windows' `\\?\Volume{GUID}\`
  }

  #record(fn: string, args: unknown[]): number | 'throw' | undefined {
    this.calls.push({ fn, args });
    for (const fault of this.#faults) {
      if (fault.fn !== fn) continue;
      fault.seen++;
      if (fault.seen === fault.nth) return fault.code;
    }
    return undefined;
  }

  #check(fn: string, args: unknown[]): number | undefined {
    const fault = this.#record(fn, args);
    if (fault === 'throw') throw new Error(`injected exception in ${fn}`);
    return fault;
  }

  #pathOf(handle: VirtualDiskHandle | null): string | undefined {
    return handle === null ? undefined : this.#handles.get(handle);
  }

  #storage(): StorageApi {
    const call = async (fn: string, args: unknown[], body: () => HResult): Promise<HResult> => {
      await Promise.resolve();
      const fault = this.#check(fn, args);
      return fault ?? body();
    };
    return {
      hasFunction: (name) => !this.missing.has(name),
      importLayer: (layerPath, source, layerData) =>
        call('HcsImportLayer', [layerPath, source, layerData], () => {
          if (!this.#privileged()) return E_PRIVILEGE_NOT_HELD;
          mkdirSync(join(layerPath, 'Files'), { recursive: true });
          writeFileSync(join(layerPath, 'imported-from'), source);
          return 0;
        }),
      exportLayer: (layerPath, exportPath, layerData, options) =>
        call('HcsExportLayer', [layerPath, exportPath, layerData, options], () => {
          if (!this.#privileged()) return E_PRIVILEGE_NOT_HELD;
          mkdirSync(join(exportPath, 'Files'), { recursive: true });
          writeFileSync(join(exportPath, 'exported-from'), layerPath);
          return 0;
        }),
      exportLegacyWritableLayer: (...args) => call('HcsExportLegacyWritableLayer', args, () => 0),
      destroyLayer: (layerPath) =>
        call('HcsDestroyLayer', [layerPath], () => {
          if (!this.#privileged()) return E_PRIVILEGE_NOT_HELD;
          try {
            statSync(layerPath);
          } catch {
            return 0x80070003 | 0; // ERROR_PATH_NOT_FOUND
          }
          const leaves = this.destroyLeaves.get(layerPath) ?? 0;
          if (leaves > 0) {
            this.destroyLeaves.set(layerPath, leaves - 1);
            return 0;
          }
          rmSync(layerPath, { recursive: true, force: true });
          return 0;
        }),
      setupBaseOSLayer: (...args) => call('HcsSetupBaseOSLayer', args, () => 0),
      initializeWritableLayer: (path, layerData, options) =>
        call('HcsInitializeWritableLayer', [path, layerData, options], () =>
          [...this.#attached.values()].includes(path) ? 0 : E_INVALIDARG,
        ),
      initializeLegacyWritableLayer: (...args) => call('HcsInitializeLegacyWritableLayer', args, () => 0),
      attachLayerStorageFilter: (path, layerData) =>
        call('HcsAttachLayerStorageFilter', [path, layerData], () => {
          if (this.#filters.has(path)) return 0x800700b7 | 0; // ERROR_ALREADY_EXISTS
          this.#filters.add(path);
          return 0;
        }),
      detachLayerStorageFilter: (path) =>
        call('HcsDetachLayerStorageFilter', [path], () => (this.#filters.delete(path) ? 0 : E_NOTFOUND)),
      formatWritableLayerVhd: (vhd) =>
        call('HcsFormatWritableLayerVhd', [vhd], () => (this.#pathOf(vhd) ? 0 : E_INVALIDARG)),
      getLayerVhdMountPath: async (vhd) => {
        await Promise.resolve();
        const fault = this.#check('HcsGetLayerVhdMountPath', [vhd]);
        if (fault !== undefined) return { hr: fault, path: null };
        const path = this.#pathOf(vhd);
        const volume = path === undefined ? undefined : this.#attached.get(path);
        if (volume === undefined) return { hr: E_NOTFOUND, path: null };
        return { hr: 0, path: this.#trailingSeparator ? volume : volume.replace(/[\\/]$/, '') };
      },
      setupBaseOSVolume: (...args) => call('HcsSetupBaseOSVolume', args, () => 0),
    };
  }

  #virtDisk(): VirtDiskApi {
    const call = async <T>(fn: string, args: unknown[], failed: (code: number) => T, body: () => T) => {
      await Promise.resolve();
      const fault = this.#check(fn, args);
      return fault === undefined ? body() : failed(fault);
    };
    const open = (path: string): VirtualDiskHandle => {
      const handle = this.#nextHandle++ as VirtualDiskHandle;
      this.#handles.set(handle, path);
      this.#handlesOpened++;
      return handle;
    };
    return {
      hasFunction: (name) => !this.missing.has(name),
      createVirtualDisk: (path: string, options: CreateVirtualDiskOptions) =>
        call<DiskHandleResult>(
          'CreateVirtualDisk',
          [path, options],
          (error) => ({ error, handle: null }),
          () => {
            try {
              writeFileSync(path, `fake vhdx ${options.maximumSizeBytes}\n`, { flag: 'wx' });
            } catch (error) {
              const code = (error as NodeJS.ErrnoException).code;
              return { error: code === 'EEXIST' ? ERROR_FILE_EXISTS : 3, handle: null };
            }
            return { error: 0, handle: open(path) };
          },
        ),
      openVirtualDisk: (path: string, options?: OpenVirtualDiskOptions) =>
        call<DiskHandleResult>(
          'OpenVirtualDisk',
          [path, options],
          (error) => ({ error, handle: null }),
          () => {
            try {
              statSync(path);
            } catch {
              return { error: ERROR_FILE_NOT_FOUND, handle: null };
            }
            return { error: 0, handle: open(path) };
          },
        ),
      attachVirtualDisk: (handle, flags) =>
        call<Win32Error>(
          'AttachVirtualDisk',
          [handle, flags],
          (e) => e,
          () => {
            const path = this.#pathOf(handle);
            if (path === undefined) return ERROR_INVALID_HANDLE;
            if (this.#attached.has(path)) return 0x20; // ERROR_SHARING_VIOLATION
            this.#attached.set(path, this.#newVolume());
            return 0;
          },
        ),
      detachVirtualDisk: (handle, flags = 0) =>
        call<Win32Error>(
          'DetachVirtualDisk',
          [handle, flags],
          (e) => e,
          () => {
            const path = this.#pathOf(handle);
            if (path === undefined) return ERROR_INVALID_HANDLE;
            const volume = this.#attached.get(path);
            if (volume === undefined) return ERROR_NOT_FOUND;
            // The volume goes with its disk, and with it any filter attached to it.
            this.#attached.delete(path);
            this.#filters.delete(volume);
            return 0;
          },
        ),
      getVirtualDiskPhysicalPath: (handle) =>
        call<{ error: Win32Error; path: string | null }>(
          'GetVirtualDiskPhysicalPath',
          [handle],
          (error) => ({ error, path: null }),
          () => {
            const path = this.#pathOf(handle);
            if (path === undefined) return { error: ERROR_INVALID_HANDLE, path: null };
            return this.#attached.has(path)
              ? { error: 0, path: '\\\\.\\PhysicalDrive7' }
              : { error: ERROR_NOT_FOUND, path: null };
          },
        ),
      closeHandle: (handle) =>
        call<boolean>(
          'CloseHandle',
          [handle],
          () => false,
          () => this.#handles.delete(handle),
        ),
    };
  }
}
