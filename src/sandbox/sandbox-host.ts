import type { CommandResult } from './command-errors.js';
import type { OutputEncoding, OutputOf } from './command-output.js';
import type { CommandHandle, CommandInput, CommandOptions, RunOptions } from './commands.js';
import type { SandboxInfo } from './info.js';
import type { SandboxOptions } from './options.js';

/**
 * What code that drives sandboxes sees of one, wherever it runs: a local
 * `Sandbox`, or one a remote `hcs-sandbox serve` runs for you
 * (`Sandbox.connect`). Code written against these types runs unchanged
 * against either, which is what the MCP server and the CLI's `--host` rely on.
 */

/** One entry of a folder inside a sandbox (`files.list`). */
export interface SandboxFileEntry {
  name: string;
  /** `link`: a symbolic link, junction or mount point inside, never followed. */
  type: 'file' | 'directory' | 'link' | 'other';
  /** Bytes (0 for folders and links). */
  size: number;
  /** Last write time, when the sandbox reports one. */
  modified: Date | undefined;
}

export interface SandboxFilesApi {
  write(sandboxPath: string, data: string | Uint8Array): Promise<void>;
  read(sandboxPath: string): Promise<string>;
  read(sandboxPath: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  copyIn(hostPath: string, sandboxPath: string): Promise<void>;
  copyOut(sandboxPath: string, hostPath: string): Promise<void>;
  /** The entries of a folder inside, links reported as links (never followed). */
  list(sandboxPath: string): Promise<SandboxFileEntry[]>;
  /** Removes a file, or a folder (its contents only with `recursive`); a link is removed, never followed. */
  remove(sandboxPath: string, options?: { recursive?: boolean }): Promise<void>;
}

export interface SandboxCommandsApi {
  run<E extends OutputEncoding = 'utf8'>(
    command: CommandInput,
    options?: RunOptions<E>,
  ): Promise<CommandResult<OutputOf<E>>>;
  spawn<E extends OutputEncoding = 'utf8'>(
    command: CommandInput,
    options?: CommandOptions<E>,
  ): Promise<CommandHandle<OutputOf<E>>>;
}

/** A sandbox as its users drive it (the local `Sandbox` is one). */
export interface SandboxLike extends AsyncDisposable {
  readonly name: string;
  readonly id: string;
  readonly commands: SandboxCommandsApi;
  readonly files: SandboxFilesApi;
  info(): Promise<SandboxInfo>;
  start(): Promise<void>;
  stop(options?: { timeoutMs?: number }): Promise<unknown>;
  kill(): Promise<void>;
  remove(): Promise<void>;
  /** Lets go of the sandbox without stopping it. */
  close(): Promise<void>;
}

/** Where sandboxes are made and found: this machine (`Sandbox` itself) or a remote host. */
export interface SandboxHost {
  create(options: SandboxOptions): Promise<SandboxLike>;
  open(name: string): Promise<SandboxLike>;
  list(): Promise<SandboxInfo[]>;
}
