import { InvalidArgumentError } from '../internal/errors.js';
import { SandboxPathNotFoundError, SandboxPathNotRemovableError } from '../storage/beneath/index.js';
import { type AgentClient, AgentRequestError, FileAttribute } from './agent/index.js';
import type { CommandLauncher, CommandProcess } from './commands.js';
import { copyIntoGuest, copyOutOfGuest } from './guest-copy.js';
import type { SandboxFileEntry } from './sandbox-host.js';

/**
 * Commands through a VM's guest agent, in the shape HCS processes have, so
 * `CommandHandle` (output, timeouts, kill, exit code) is the same for both.
 * The agent runs them as SYSTEM with the given cwd and environment; it has no
 * container accounts, so `user` is refused.
 */
export function agentLauncher(agent: AgentClient): CommandLauncher {
  return async (commandLine, options) => {
    if (options.user !== undefined) {
      throw new InvalidArgumentError(
        'user',
        'no user with vm isolation',
        options.user,
        "commands in a VM run as the guest agent's account (SYSTEM)",
      );
    }
    const child = agent.exec({
      command: { commandLine },
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      ...(options.env !== undefined && { env: options.env }),
      ...(options.tty && { pty: { cols: options.cols ?? 80, rows: options.rows ?? 25 } }),
    });
    // The agent's error when the process could not start (no such program, a bad cwd).
    const pid = await child.pid;
    const process: CommandProcess = {
      pid,
      stdin: child.stdin,
      stdout: child.stdout,
      // Under a pseudo console the terminal carries both, as with HCS's EmulateConsole.
      stderr: options.tty ? null : child.stderr,
      wait: async () => ({ exitCode: await child.exitCode }),
      // The agent ends the process's job object: the whole tree goes.
      terminate: async () => child.kill(1),
      resizeConsole: async (cols, rows) => child.resize(cols, rows),
      close: async () => {},
    };
    if (options.tty) child.stderr.resume();
    return process;
  };
}

/** Windows errors the guest reports that mean the same as the container files API's typed errors. */
const ERROR_FILE_NOT_FOUND = 2;
const ERROR_PATH_NOT_FOUND = 3;
const ERROR_DIR_NOT_EMPTY = 145;

/**
 * The agent's refusal as the files API's typed error where one fits (so a
 * caller, local or remote, handles a VM's missing file as a container's), else as is.
 */
function filesError(error: unknown, path: string): unknown {
  if (!(error instanceof AgentRequestError)) return error;
  if (error.win32 === ERROR_FILE_NOT_FOUND || error.win32 === ERROR_PATH_NOT_FOUND)
    return new SandboxPathNotFoundError(path);
  if (error.win32 === ERROR_DIR_NOT_EMPTY) return new SandboxPathNotRemovableError(path, 'not-empty');
  return error;
}

/**
 * A VM sandbox's files, through its agent's file requests. Paths are guest
 * paths (checked by the caller); the guest resolves them, and what it answers
 * is checked before it touches the host (`guest-copy.ts`).
 */
export class GuestFiles {
  readonly #agent: AgentClient;

  constructor(agent: AgentClient) {
    this.#agent = agent;
  }

  async #mapped<T>(path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw filesError(error, path);
    }
  }

  write(sandboxPath: string, data: Uint8Array): Promise<void> {
    return this.#mapped(sandboxPath, async () => {
      await this.#agent.putFile(sandboxPath, data, { mkdirs: true });
    });
  }

  read(sandboxPath: string): Promise<Buffer> {
    return this.#mapped(sandboxPath, async () => (await this.#agent.readFile(sandboxPath)).data);
  }

  /** A host file or folder tree to exactly `sandboxPath`, streamed. */
  copyIn(hostPath: string, sandboxPath: string): Promise<void> {
    return this.#mapped(sandboxPath, () => copyIntoGuest(this.#agent, hostPath, sandboxPath));
  }

  /** A guest file or folder tree to exactly `hostPath`, streamed; links inside refused. */
  copyOut(sandboxPath: string, hostPath: string): Promise<void> {
    return this.#mapped(sandboxPath, () => copyOutOfGuest(this.#agent, sandboxPath, hostPath));
  }

  list(sandboxPath: string): Promise<SandboxFileEntry[]> {
    return this.#mapped(sandboxPath, async () =>
      (await this.#agent.list(sandboxPath)).map((entry) => ({
        name: entry.name,
        type:
          entry.attributes & FileAttribute.reparsePoint ? 'link' : entry.isDirectory ? 'directory' : 'file',
        size: entry.isDirectory ? 0 : entry.size,
        modified: entry.modified,
      })),
    );
  }

  /** The agent removes a link as itself and never descends into one (agent/files.c). */
  remove(sandboxPath: string, options: { recursive?: boolean }): Promise<void> {
    return this.#mapped(sandboxPath, () => this.#agent.remove(sandboxPath, options));
  }
}
