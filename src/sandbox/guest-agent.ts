import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../internal/errors.js';
import { type AgentClient, FileAttribute } from './agent/index.js';
import type { CommandLauncher, CommandProcess } from './commands.js';
import { GuestAgentRequiredError } from './errors.js';
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

/**
 * A VM sandbox's files, through its agent's file requests. Paths are guest
 * paths (checked by the caller); the guest resolves them, so nothing inside
 * can point the host anywhere. Folders are not copied yet.
 */
export class GuestFiles {
  readonly #sandbox: string;
  readonly #agent: AgentClient;

  constructor(sandbox: string, agent: AgentClient) {
    this.#sandbox = sandbox;
    this.#agent = agent;
  }

  async write(sandboxPath: string, data: Uint8Array): Promise<void> {
    await this.#agent.putFile(sandboxPath, data, { mkdirs: true });
  }

  async read(sandboxPath: string): Promise<Buffer> {
    return (await this.#agent.readFile(sandboxPath)).data;
  }

  /** One host file to exactly `sandboxPath`, streamed. */
  async copyIn(hostPath: string, sandboxPath: string): Promise<void> {
    if ((await stat(hostPath)).isDirectory()) throw this.#noFolders();
    await this.#agent.putFile(sandboxPath, createReadStream(hostPath), { mkdirs: true });
  }

  /** One guest file to exactly `hostPath` (its folder made), streamed. */
  async copyOut(sandboxPath: string, hostPath: string): Promise<void> {
    if ((await this.#agent.stat(sandboxPath)).isDirectory) throw this.#noFolders();
    const { info, data } = this.#agent.getFile(sandboxPath);
    data.on('error', () => {}); // a failed request rejects `info` and `pipeline` below, not the process
    await info;
    await mkdir(dirname(hostPath), { recursive: true });
    await pipeline(data, createWriteStream(hostPath));
  }

  async list(sandboxPath: string): Promise<SandboxFileEntry[]> {
    const entries = await this.#agent.list(sandboxPath);
    return entries.map((entry) => ({
      name: entry.name,
      type: entry.attributes & FileAttribute.reparsePoint ? 'link' : entry.isDirectory ? 'directory' : 'file',
      size: entry.isDirectory ? 0 : entry.size,
      modified: entry.modified,
    }));
  }

  /** The agent removes a link as itself and never descends into one (agent/files.c). */
  async remove(sandboxPath: string, options: { recursive?: boolean }): Promise<void> {
    await this.#agent.remove(sandboxPath, options);
  }

  #noFolders(): GuestAgentRequiredError {
    return new GuestAgentRequiredError(
      this.#sandbox,
      'copying folders',
      'which copies single files only for now',
    );
  }
}
