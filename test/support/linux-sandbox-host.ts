import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, cp, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import {
  ImageNotFoundError,
  InvalidArgumentError,
  SandboxExistsError,
  type SandboxInfo,
  SandboxNotFoundError,
  SandboxNotRunningError,
  SandboxPathNotFoundError,
  SandboxPathNotRemovableError,
  type SandboxStatus,
} from '../../src/index.js';
import type { ImageCatalog, ServeBackend } from '../../src/remote/server/index.js';
import { type CommandProcess, runCommand, spawnCommand } from '../../src/sandbox/commands.js';
import type { SandboxOptions } from '../../src/sandbox/options.js';
import type { SandboxFileEntry, SandboxHost, SandboxLike } from '../../src/sandbox/sandbox-host.js';

/**
 * A `SandboxHost` on Linux for tests of code above the sandbox layer (the
 * API server, clients of it): each sandbox is a folder standing for its C:
 * drive, and its commands are real Linux processes (`sh -c <command line>`,
 * each in its own process group so a kill takes its whole tree), run through
 * the SDK's own `spawnCommand`/`runCommand`, so results, `CommandHandle` and
 * errors have exactly the SDK's shapes. Guest paths (`C:\work\a.txt` or
 * `/work/a.txt`) map inside the folder; `..` cannot leave it.
 */

export const LINUX_IMAGE = 'local/base:1';

interface State {
  info: SandboxInfo;
  dir: string;
  processes: Set<ChildProcess>;
}

export class LinuxSandboxHost implements SandboxHost {
  readonly root: string;
  readonly #sandboxes = new Map<string, State>();
  /** Every process started, live or not (tests check they were killed). */
  readonly started: ChildProcess[] = [];
  readonly images: ImageCatalog;

  constructor(root: string) {
    this.root = root;
    this.images = {
      list: async () => [{ reference: LINUX_IMAGE, source: 'hcs-sandbox', sizeBytes: 0 }],
      pull: async (reference, { onProgress }) => {
        if (reference !== LINUX_IMAGE) throw new ImageNotFoundError(reference, ['fake registry']);
        onProgress({ item: reference, phase: 'resolve', done: 0 });
        onProgress({ item: reference, phase: 'done', done: 1, total: 1 });
        return { reference, source: 'hcs-sandbox', sizeBytes: 0 };
      },
    };
  }

  /** The backend a server takes. */
  backend(): ServeBackend {
    return { sandboxes: this, images: this.images };
  }

  names(): string[] {
    return [...this.#sandboxes.keys()];
  }

  /** Processes still running in any sandbox. */
  liveProcesses(): ChildProcess[] {
    return this.started.filter((p) => p.exitCode === null && p.signalCode === null);
  }

  async create(options: SandboxOptions): Promise<SandboxLike> {
    if (options.image !== LINUX_IMAGE) throw new ImageNotFoundError(String(options.image), ['fake store']);
    const name = options.name ?? `sbx-${randomBytes(3).toString('hex')}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name))
      throw new InvalidArgumentError('name', 'letters, digits, "_", ".", "-" (1-63)', name);
    if (this.#sandboxes.has(name)) throw new SandboxExistsError(name);
    const dir = join(this.root, name);
    await mkdir(dir, { recursive: true });
    this.#sandboxes.set(name, {
      dir,
      processes: new Set(),
      info: {
        name,
        id: `hcs-sandbox-${randomBytes(8).toString('hex')}`,
        status: options.start === false ? 'created' : 'running',
        isolation: options.isolation ?? 'process',
        image: options.image,
        persistent: options.persistent ?? false,
        createdAt: new Date().toISOString(),
        memoryMB: options.memoryMB,
        cpus: options.cpus,
        mappedFolders: [],
        scratchBytes: undefined,
        network: options.network ?? 'none',
        ports: [],
        ip: undefined,
      },
    });
    return this.open(name);
  }

  async open(name: string): Promise<SandboxLike> {
    if (!this.#sandboxes.has(name)) throw new SandboxNotFoundError(name);
    return new LinuxSandbox(this, name);
  }

  async list(): Promise<SandboxInfo[]> {
    return [...this.#sandboxes.values()].map((s) => ({ ...s.info }));
  }

  /** @internal */
  state(name: string): State {
    const state = this.#sandboxes.get(name);
    if (!state) throw new SandboxNotFoundError(name);
    return state;
  }

  /** @internal */
  async drop(name: string): Promise<void> {
    const state = this.state(name);
    killAll(state);
    this.#sandboxes.delete(name);
    await rm(state.dir, { recursive: true, force: true });
  }
}

function killAll(state: State): void {
  for (const p of state.processes) killTree(p);
  state.processes.clear();
}

function killTree(p: ChildProcess): void {
  try {
    if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** A guest path inside the sandbox's folder. */
function hostPathOf(dir: string, guest: string): string {
  const posixPath = guest.replace(/^[A-Za-z]:/, '').replaceAll('\\', '/');
  const inside = posix.normalize(`/${posixPath}`);
  return join(dir, inside);
}

class LinuxSandbox implements SandboxLike {
  readonly name: string;
  readonly #host: LinuxSandboxHost;
  readonly commands: SandboxLike['commands'];
  readonly files: SandboxLike['files'];

  constructor(host: LinuxSandboxHost, name: string) {
    this.#host = host;
    this.name = name;
    const launch = (commandLine: string, options: { cwd?: string; env?: Record<string, string> }) =>
      this.#launch(commandLine, options);
    this.commands = {
      run: async (command, options = {}) => {
        this.#running();
        return runCommand(launch, command, options);
      },
      spawn: async (command, options = {}) => {
        this.#running();
        return spawnCommand(launch, command, options);
      },
    } as SandboxLike['commands'];
    const at = (guest: string) => hostPathOf(this.#state().dir, guest);
    const existing = async (guest: string) => {
      const path = at(guest);
      try {
        return { path, stats: await lstat(path) };
      } catch {
        throw new SandboxPathNotFoundError(guest);
      }
    };
    this.files = {
      write: async (guest: string, data: string | Uint8Array) => {
        await mkdir(dirname(at(guest)), { recursive: true });
        await writeFile(at(guest), data);
      },
      read: (async (guest: string, options?: { encoding: 'bytes' }) => {
        const { path } = await existing(guest);
        const bytes = await readFile(path);
        return options?.encoding === 'bytes' ? new Uint8Array(bytes) : bytes.toString('utf8');
      }) as SandboxLike['files']['read'],
      copyIn: async (hostPath: string, guest: string) => {
        await mkdir(dirname(at(guest)), { recursive: true });
        await copyFile(hostPath, at(guest));
      },
      copyOut: async (guest: string, hostPath: string) => {
        const { path } = await existing(guest);
        await cp(path, hostPath, { recursive: true });
      },
      list: async (guest: string): Promise<SandboxFileEntry[]> => {
        const { path } = await existing(guest);
        const names = await readdir(path);
        return Promise.all(
          names.sort().map(async (entry) => {
            const s = await lstat(join(path, entry));
            const type = s.isSymbolicLink()
              ? 'link'
              : s.isDirectory()
                ? 'directory'
                : s.isFile()
                  ? 'file'
                  : 'other';
            return { name: entry, type, size: type === 'file' ? s.size : 0, modified: s.mtime };
          }),
        );
      },
      remove: async (guest: string, options: { recursive?: boolean } = {}) => {
        const { path, stats } = await existing(guest);
        if (stats.isDirectory() && options.recursive !== true && (await readdir(path)).length > 0)
          throw new SandboxPathNotRemovableError(guest, 'not-empty');
        await rm(path, { recursive: stats.isDirectory() });
      },
    };
  }

  get id(): string {
    return this.#state().info.id;
  }

  async info(): Promise<SandboxInfo> {
    return { ...this.#state().info };
  }

  async start(): Promise<void> {
    this.#state().info.status = 'running';
  }

  async stop(): Promise<undefined> {
    this.#settle('stopped');
    return undefined;
  }

  async kill(): Promise<void> {
    this.#settle('stopped');
  }

  async remove(): Promise<void> {
    await this.#host.drop(this.name);
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state().info.persistent) await this.stop();
    else await this.remove();
  }

  #state(): State {
    return this.#host.state(this.name);
  }

  #settle(status: SandboxStatus): void {
    const state = this.#state();
    killAll(state);
    state.info.status = status;
  }

  #running(): void {
    const { info } = this.#state();
    if (info.status !== 'running') throw new SandboxNotRunningError(this.name, info.status);
  }

  async #launch(
    commandLine: string,
    options: { cwd?: string; env?: Record<string, string> },
  ): Promise<CommandProcess> {
    const state = this.#state();
    const child = spawn('sh', ['-c', commandLine], {
      cwd: options.cwd === undefined ? state.dir : hostPathOf(state.dir, options.cwd),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      detached: true,
      stdio: 'pipe',
    });
    this.#host.started.push(child);
    state.processes.add(child);
    const exited = new Promise<{ exitCode: number }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        state.processes.delete(child);
        resolve({ exitCode: code ?? (signal ? 128 + 9 : 1) });
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return {
      pid: child.pid as number,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      wait: () => exited,
      terminate: async () => killTree(child),
      resizeConsole: async () => {},
      close: async () => {},
    };
  }
}
