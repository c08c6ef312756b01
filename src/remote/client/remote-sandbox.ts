import { type CommandLauncher, runCommand, spawnCommand } from '../../sandbox/commands.js';
import type { SandboxInfo } from '../../sandbox/info.js';
import type { SandboxCommandsApi, SandboxLike } from '../../sandbox/sandbox-host.js';
import { RemoteNotFoundError } from './errors.js';
import { RemoteFiles } from './remote-files.js';
import { streamLauncher } from './stream-process.js';
import type { RemoteTransport } from './transport.js';

/**
 * A sandbox on a remote host, with the local `Sandbox`'s shape
 * (`SandboxLike`): commands run through the same `CommandHandle` machinery,
 * so results, errors, timeouts and streaming are the same.
 *
 * While the object is open, a non-persistent sandbox's lease is renewed every
 * third of the server's lease, by a timer that does not keep the process
 * alive: when this process ends (or `close()` is called) the renewals stop,
 * and the server removes the sandbox when its lease lapses.
 */
export class RemoteSandbox implements SandboxLike {
  readonly name: string;
  readonly id: string;
  readonly files: RemoteFiles;
  readonly commands: SandboxCommandsApi;
  readonly #transport: RemoteTransport;
  readonly #route: string;
  readonly #persistent: boolean;
  readonly #onClose: (sandbox: RemoteSandbox) => void;
  #lease: NodeJS.Timeout | undefined;

  /** @internal Use `host.create()` or `host.open()`. */
  constructor(transport: RemoteTransport, info: SandboxInfo, onClose: (sandbox: RemoteSandbox) => void) {
    this.name = info.name;
    this.id = info.id;
    this.#transport = transport;
    this.#route = `sandboxes/${encodeURIComponent(info.name)}`;
    this.#persistent = info.persistent === true;
    this.#onClose = onClose;
    this.files = new RemoteFiles(transport, info.name);
    const launcher: CommandLauncher = streamLauncher(transport, info.name);
    this.commands = {
      run: (command, options) => runCommand(launcher, command, options),
      spawn: (command, options) => spawnCommand(launcher, command, options),
    };
    if (!this.#persistent) {
      this.#lease = setInterval(() => void this.#renew(), (transport.leaseSeconds * 1000) / 3);
      this.#lease.unref();
    }
  }

  /** Whether the lease timer runs (an open, non-persistent sandbox). */
  get renewing(): boolean {
    return this.#lease !== undefined;
  }

  async info(): Promise<SandboxInfo> {
    return this.#transport.json<SandboxInfo>('GET', this.#route);
  }

  async start(): Promise<void> {
    await this.#transport.json('POST', `${this.#route}/start`, { json: {}, timeoutMs: false });
  }

  /** A graceful shutdown, forced after `timeoutMs` (the server's default without it). */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    const json = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    await this.#transport.json('POST', `${this.#route}/stop`, { json, timeoutMs: false });
  }

  async kill(): Promise<void> {
    await this.#transport.json('POST', `${this.#route}/kill`, { json: {} });
  }

  /** Removes the sandbox (stopping it first if it runs), and lets go of it. */
  async remove(): Promise<void> {
    await this.#transport.call('DELETE', this.#route, { timeoutMs: false });
    await this.close();
  }

  /** Stops renewing the lease; the sandbox itself is left as it is. Idempotent. */
  async close(): Promise<void> {
    if (this.#lease) clearInterval(this.#lease);
    this.#lease = undefined;
    this.#onClose(this);
  }

  /** As the local one: removes a non-persistent sandbox, stops a persistent one. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      if (this.#persistent) await this.stop();
      else
        await this.remove().catch((error) => {
          if (!(error instanceof RemoteNotFoundError)) throw error;
        });
    } finally {
      await this.close();
    }
  }

  /** One renewal; a sandbox that is gone stops the timer (nothing is left to keep). */
  async #renew(): Promise<void> {
    try {
      await this.#transport.call('POST', `${this.#route}/keepalive`);
    } catch (error) {
      if (error instanceof RemoteNotFoundError) await this.close();
      // Anything else (a network blip) is retried at the next tick, well within the lease.
    }
  }
}
