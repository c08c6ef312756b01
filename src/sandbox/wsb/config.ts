/**
 * A parsed Windows Sandbox configuration file (`.wsb`) as typed data: what
 * reader.ts produces and to-options.ts maps. Spellings, values and defaults
 * follow Microsoft Learn's "Windows Sandbox configuration" page (docs/wsb.md
 * has the table).
 */

/** A tri-state switch. `Default` (or an absent element) leaves the choice to Windows Sandbox. */
export type WsbToggle = 'Enable' | 'Disable' | 'Default';
/** `<vGPU>` also takes `EnableVendorExtensions` (GPU paravirtualization driver docs). */
export type WsbGpu = WsbToggle | 'EnableVendorExtensions';

/** A 1-based place in the file. */
export interface WsbPosition {
  line: number;
  column: number;
}

export interface WsbMappedFolder {
  /** Absolute host path (drive or UNC), as written. */
  hostFolder: string;
  /** Absolute path in the sandbox: as written, or Windows Sandbox's default (see `sandboxFolderDefaulted`). */
  sandboxFolder: string;
  /** True when `<SandboxFolder>` was absent and `sandboxFolder` is `C:\Users\WDAGUtilityAccount\Desktop\<name>`. */
  sandboxFolderDefaulted: boolean;
  /** `<ReadOnly>`; `false` when absent. */
  readOnly: boolean;
  /** Where the `<MappedFolder>` element starts. */
  position: WsbPosition;
}

/** The canonical (documented) spelling of each top-level element. */
export type WsbSettingName =
  | 'vGPU'
  | 'Networking'
  | 'MappedFolders'
  | 'LogonCommand'
  | 'AudioInput'
  | 'VideoInput'
  | 'ProtectedClient'
  | 'PrinterRedirection'
  | 'ClipboardRedirection'
  | 'MemoryInMB';

/** A parsed `.wsb` file. Absent settings are absent here too (Windows Sandbox's defaults apply). */
export interface WsbConfig {
  /** The name used in error messages and warnings. */
  fileName: string;
  vGPU?: WsbGpu;
  networking?: WsbToggle;
  /** `<MappedFolders>`, in file order; `[]` when absent. */
  mappedFolders: WsbMappedFolder[];
  /** `<LogonCommand><Command>`, trimmed. */
  logonCommand?: string;
  audioInput?: WsbToggle;
  videoInput?: WsbToggle;
  protectedClient?: WsbToggle;
  printerRedirection?: WsbToggle;
  clipboardRedirection?: WsbToggle;
  memoryInMB?: number;
  /** Where each top-level setting that is present was written. */
  positions: Partial<Record<WsbSettingName, WsbPosition>>;
}

/** Largest memory we accept, in MB (12 TiB, Hyper-V's per-VM maximum). */
export const WSB_MAX_MEMORY_MB = 12 * 1024 * 1024;
/** `MemoryInMB` (and the `memoryMB` override) in words, for errors. */
export const MEMORY_VALUES = `a whole number of megabytes from 1 to ${WSB_MAX_MEMORY_MB}`;

/** The `WsbConfig` keys of the tri-state settings. */
export type WsbToggleKey =
  | 'networking'
  | 'audioInput'
  | 'videoInput'
  | 'protectedClient'
  | 'printerRedirection'
  | 'clipboardRedirection';
