import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SandboxInfo, SandboxOptions } from '../../src/index.js';
import {
  ImageNotFoundError,
  SandboxExistsError,
  SandboxNotFoundError,
  SandboxPathNotFoundError,
} from '../../src/index.js';
import { type CommandProcess, runCommand, spawnCommand } from '../../src/sandbox/commands.js';
import type {
  SandboxFileEntry,
  SandboxFilesApi,
  SandboxHost,
  SandboxLike,
} from '../../src/sandbox/sandbox-host.js';

/**
 * A `SandboxHost` on Linux whose sandboxes are folders and whose commands
 * are real processes: a command line runs under `sh -c` in the sandbox's
 * folder (its C:\), through the product's own command runner
 * (`runCommand`/`spawnCommand` with a launcher), so output, timeouts and
 * kills behave as they do in a sandbox. Files map `C:\a\b` to `<folder>/a/b`.
 * Enough to drive code written against SandboxHost (the MCP server) for
 * real in unit tests; no isolation whatsoever.
 */
export class ProcessSandboxHost implements SandboxHost {
  readonly root = mkdtempSync(join(tmpdir(), 'hcs-process-host-'));
  /** Every host and sandbox call, in order (`create box1`, `open box1`, `run box1`...). */
  readonly calls: string[] = [];
  /** Images `create` accepts; any other is IMAGE_NOT_FOUND. */
  readonly images = new Set(['local/base:1']);
  readonly #sandboxes = new Map<string, ProcessSandbox>();
  #counter = 0;

  async create(options: SandboxOptions): Promise<SandboxLike> {
    const name = options.name ?? `sb-${++this.#counter}`;
    this.calls.push(`create ${name}`);
    if (this.#sandboxes.has(name)) throw new SandboxExistsError(name);
    if (!options.image || !this.images.has(options.image))
      throw new ImageNotFoundError(String(options.image), ['process-host']);
    const sandbox = new ProcessSandbox(this, name, options);
    this.#sandboxes.set(name, sandbox);
    return sandbox;
  }

  async open(name: string): Promise<SandboxLike> {
    this.calls.push(`open ${name}`);
    const sandbox = this.#sandboxes.get(name);
    if (!sandbox) throw new SandboxNotFoundError(name);
    return sandbox;
  }

  async list(): Promise<SandboxInfo[]> {
    this.calls.push('list');
    return Promise.all([...this.#sandboxes.values()].map((s) => s.info()));
  }

  names(): string[] {
    return [...this.#sandboxes.keys()].sort();
  }

  /** @internal */
  forget(name: string): void {
    this.#sandboxes.delete(name);
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

class ProcessSandbox implements SandboxLike {
  readonly name: string;
  readonly id: string;
  readonly #host: ProcessSandboxHost;
  readonly #options: SandboxOptions;
  readonly #folder: string;
  readonly #createdAt = new Date().toISOString();
  #status: SandboxInfo['status'] = 'running';
  readonly commands: SandboxLike['commands'];
  readonly files: SandboxFilesApi;

  constructor(host: ProcessSandboxHost, name: string, options: SandboxOptions) {
    this.#host = host;
    this.name = name;
    this.id = `process-host-${name}`;
    this.#options = options;
    this.#folder = join(host.root, name);
    mkdirSync(this.#folder);
    const launch = (commandLine: string, o: { cwd?: string; env?: Record<string, string> }) =>
      launchProcess(commandLine, o.cwd ? this.#hostPath(o.cwd) : this.#folder, { ...options.env, ...o.env });
    this.commands = {
      run: (command, o = {}) => {
        this.#record(`run ${this.name}`);
        return runCommand(launch, command, o);
      },
      spawn: (command, o = {}) => {
        this.#record(`spawn ${this.name}`);
        return spawnCommand(launch, command, o);
      },
    };
    this.files = this.#filesApi();
  }

  async info(): Promise<SandboxInfo> {
    return {
      name: this.name,
      id: this.id,
      status: this.#status,
      isolation: this.#options.isolation ?? 'process',
      image: this.#options.image,
      persistent: this.#options.persistent === true,
      createdAt: this.#createdAt,
      memoryMB: this.#options.memoryMB,
      cpus: this.#options.cpus,
      mappedFolders: [],
      scratchBytes: undefined,
      network: this.#options.network ?? 'none',
      ports: [],
      ip: undefined,
    };
  }

  async start(): Promise<void> {
    this.#status = 'running';
  }
  async stop(): Promise<void> {
    this.#status = 'stopped';
  }
  async kill(): Promise<void> {
    this.#status = 'stopped';
  }
  async remove(): Promise<void> {
    this.#record(`remove ${this.name}`);
    rmSync(this.#folder, { recursive: true, force: true });
    this.#host.forget(this.name);
  }
  async close(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }

  #record(call: string): void {
    this.#host.calls.push(call);
    if (!existsSync(this.#folder)) throw new SandboxNotFoundError(this.name);
  }

  /** `C:\a\b` as the folder's `a/b`. */
  #hostPath(sandboxPath: string): string {
    return join(
      this.#folder,
      ...sandboxPath
        .replace(/^[A-Za-z]:/, '')
        .split('\\')
        .filter(Boolean),
    );
  }

  #filesApi(): SandboxFilesApi {
    const at = (path: string) => this.#hostPath(path);
    const missing = (path: string) => (error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new SandboxPathNotFoundError(path) : error;
    };
    const read = async (path: string, options?: { encoding: 'bytes' }) => {
      this.#record(`read ${this.name} ${path}`);
      const bytes = await readFile(at(path)).catch(missing(path));
      return options?.encoding === 'bytes' ? new Uint8Array(bytes) : bytes.toString('utf8');
    };
    return {
      read: read as SandboxFilesApi['read'],
      write: async (path, data) => {
        this.#record(`write ${this.name} ${path}`);
        mkdirSync(dirname(at(path)), { recursive: true });
        await writeFile(at(path), data);
      },
      list: async (path) => {
        this.#record(`list ${this.name} ${path}`);
        const names = await readdir(at(path)).catch(missing(path));
        return Promise.all(names.map(async (name) => entryOf(name, join(at(path), name))));
      },
      remove: async (path, options = {}) => {
        this.#record(`rm ${this.name} ${path}`);
        await rm(at(path), { recursive: options.recursive === true }).catch(missing(path));
      },
      copyIn: async () => {
        throw new Error('ProcessSandboxHost: copyIn is not simulated');
      },
      copyOut: async () => {
        throw new Error('ProcessSandboxHost: copyOut is not simulated');
      },
    };
  }
}

async function entryOf(name: string, path: string): Promise<SandboxFileEntry> {
  const stat = await lstat(path);
  const type = stat.isSymbolicLink()
    ? 'link'
    : stat.isDirectory()
      ? 'directory'
      : stat.isFile()
        ? 'file'
        : 'other';
  return { name, type, size: type === 'file' ? stat.size : 0, modified: stat.mtime };
}

/** A command line under `sh -c`, as the product's runner expects a started process. */
function launchProcess(
  commandLine: string,
  cwd: string,
  env: Record<string, string>,
): Promise<CommandProcess> {
  const child: ChildProcess = spawn('sh', ['-c', commandLine], {
    cwd,
    env: { ...process.env, ...env },
    stdio: 'pipe',
    // Its own process group, so a kill takes what it started with it (as a job object does).
    detached: true,
  });
  const exited = new Promise<{ exitCode: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ exitCode: code ?? (signal ? 137 : 1) })),
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () =>
      resolve({
        pid: child.pid ?? 0,
        stdin: child.stdin,
        stdout: child.stdout,
        stderr: child.stderr,
        wait: () => exited,
        terminate: async () => {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already exited
          }
        },
        resizeConsole: async () => {},
        close: async () => {},
      }),
    );
  });
}
