import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UnavailableError } from '../internal/errors.js';
import { checkHostPath, checkSandboxPath } from './options.js';

/** The sandbox's files are not reachable from the host in this state or isolation. */
export class SandboxFilesUnavailableError extends UnavailableError {
  constructor(sandbox: string, why: string) {
    super('FILES_UNAVAILABLE', `Files of sandbox ${sandbox} are not reachable: ${why}.`);
  }
}

/**
 * Files in and out of a process-isolated sandbox, through its writable layer
 * as mounted on the host (the way `docker cp` reaches a Windows container):
 * `C:\work\a.txt` inside is `<volume>\work\a.txt` outside. Binary-safe, no
 * process inside needed.
 */
export class SandboxFiles {
  readonly #name: string;
  readonly #volume: () => string | undefined;

  /** @internal */
  constructor(name: string, volume: () => string | undefined) {
    this.#name = name;
    this.#volume = volume;
  }

  /** Writes a file inside the sandbox, creating its folder. */
  async write(sandboxPath: string, data: string | Uint8Array): Promise<void> {
    const target = this.#hostPathOf('path', sandboxPath);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  }

  /** Reads a file from inside the sandbox: text (utf8) by default, bytes with `{ encoding: 'bytes' }`. */
  read(sandboxPath: string): Promise<string>;
  read(sandboxPath: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  async read(sandboxPath: string, options?: { encoding: 'bytes' }): Promise<string | Uint8Array> {
    const source = this.#hostPathOf('path', sandboxPath);
    return options?.encoding === 'bytes' ? new Uint8Array(await readFile(source)) : readFile(source, 'utf8');
  }

  /** Copies a host file or folder (recursively) into the sandbox. */
  async copyIn(hostPath: string, sandboxPath: string): Promise<void> {
    checkHostPath('hostPath', hostPath);
    const target = this.#hostPathOf('sandboxPath', sandboxPath);
    await mkdir(dirname(target), { recursive: true });
    await cp(hostPath, target, { recursive: true, force: true });
  }

  /** Copies a file or folder (recursively) out of the sandbox to the host. */
  async copyOut(sandboxPath: string, hostPath: string): Promise<void> {
    const source = this.#hostPathOf('sandboxPath', sandboxPath);
    checkHostPath('hostPath', hostPath);
    await mkdir(dirname(hostPath), { recursive: true });
    await cp(source, hostPath, { recursive: true, force: true });
  }

  #hostPathOf(field: string, sandboxPath: string): string {
    const inside = checkSandboxPath(field, sandboxPath);
    const volume = this.#volume();
    if (!volume)
      throw new SandboxFilesUnavailableError(
        this.#name,
        'its writable layer is not mounted (is it removed?)',
      );
    return join(volume, ...inside.slice(3).split('\\').filter(Boolean));
  }
}
