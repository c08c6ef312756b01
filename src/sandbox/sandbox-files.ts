import { UnavailableError } from '../internal/errors.js';
import {
  copyIntoVolume,
  copyOutOfVolume,
  listInside,
  readInside,
  removeInside,
  sandboxNames,
  writeInside,
} from '../storage/beneath/index.js';
import type { GuestFiles } from './guest-agent.js';
import { checkHostPath, checkSandboxPath } from './options.js';
import type { SandboxFileEntry, SandboxFilesApi } from './sandbox-host.js';

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
 *
 * Everything inside is hostile: each name is opened relative to its parent
 * folder's handle, and a link (symbolic link, junction, mount point) is never
 * followed but refused with `SandboxPathLinkError` (`PATH_IS_LINK`), so a link
 * planted inside cannot reach host files (README, `files.*`).
 *
 * A VM sandbox has no host-mounted layer: its files go through its guest
 * agent (`guest-agent.ts`), which resolves the paths inside the guest.
 */
export class SandboxFiles implements SandboxFilesApi {
  readonly #name: string;
  readonly #volume: () => string | undefined;
  readonly #guest: (() => Promise<GuestFiles>) | undefined;

  /** @internal */
  constructor(name: string, volume: () => string | undefined, guest?: () => Promise<GuestFiles>) {
    this.#name = name;
    this.#volume = volume;
    this.#guest = guest;
  }

  /** Writes a file inside the sandbox, creating its folders. Refuses a link on the way (`PATH_IS_LINK`). */
  async write(sandboxPath: string, data: string | Uint8Array): Promise<void> {
    if (this.#guest) {
      const path = checkSandboxPath('path', sandboxPath);
      return (await this.#guest()).write(path, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    }
    const { volume, names } = this.#inside('path', sandboxPath);
    await writeInside(volume, names, data);
  }

  /** Reads a file from inside the sandbox: text (utf8) by default, bytes with `{ encoding: 'bytes' }`. */
  read(sandboxPath: string): Promise<string>;
  read(sandboxPath: string, options: { encoding: 'bytes' }): Promise<Uint8Array>;
  async read(sandboxPath: string, options?: { encoding: 'bytes' }): Promise<string | Uint8Array> {
    const bytes = this.#guest
      ? await (await this.#guest()).read(checkSandboxPath('path', sandboxPath))
      : await readInside(...this.#volumeAndNames('path', sandboxPath));
    return options?.encoding === 'bytes' ? new Uint8Array(bytes) : bytes.toString('utf8');
  }

  /**
   * Copies a host file or folder (recursively) into the sandbox. Links on the
   * host side are followed (they are yours); none is created inside.
   */
  async copyIn(hostPath: string, sandboxPath: string): Promise<void> {
    checkHostPath('hostPath', hostPath);
    if (this.#guest) {
      const path = checkSandboxPath('sandboxPath', sandboxPath);
      return (await this.#guest()).copyIn(hostPath, path);
    }
    const { volume, names } = this.#inside('sandboxPath', sandboxPath);
    await copyIntoVolume(hostPath, volume, names);
  }

  /**
   * Copies a file or folder (recursively) out of the sandbox to the host: bytes
   * only. A link anywhere in the tree stops the copy with `PATH_IS_LINK`.
   */
  async copyOut(sandboxPath: string, hostPath: string): Promise<void> {
    if (this.#guest) {
      const path = checkSandboxPath('sandboxPath', sandboxPath);
      checkHostPath('hostPath', hostPath);
      return (await this.#guest()).copyOut(path, hostPath);
    }
    const { volume, names } = this.#inside('sandboxPath', sandboxPath);
    checkHostPath('hostPath', hostPath);
    await copyOutOfVolume(volume, names, hostPath);
  }

  /** The entries of a folder inside (`C:\` for the root); links are listed as `link`, never entered. */
  async list(sandboxPath: string): Promise<SandboxFileEntry[]> {
    const path = checkSandboxPath('path', sandboxPath);
    if (this.#guest) return (await this.#guest()).list(path);
    return listInside(...this.#volumeAndNames('path', path));
  }

  /**
   * Removes a file or folder inside; a folder with contents only with
   * `{ recursive: true }` (`FOLDER_NOT_EMPTY` otherwise). A link is removed
   * itself, never what it points at.
   */
  async remove(sandboxPath: string, options: { recursive?: boolean } = {}): Promise<void> {
    const path = checkSandboxPath('path', sandboxPath);
    if (this.#guest) return (await this.#guest()).remove(path, options);
    const [volume, names] = this.#volumeAndNames('path', path);
    await removeInside(volume, names, options);
  }

  #volumeAndNames(field: string, sandboxPath: string): [string, string[]] {
    const { volume, names } = this.#inside(field, sandboxPath);
    return [volume, names];
  }

  #inside(field: string, sandboxPath: string): { volume: string; names: string[] } {
    const names = sandboxNames(field, checkSandboxPath(field, sandboxPath));
    const volume = this.#volume();
    if (!volume)
      throw new SandboxFilesUnavailableError(
        this.#name,
        'its writable layer is not mounted (is it removed?)',
      );
    return { volume, names };
  }
}
