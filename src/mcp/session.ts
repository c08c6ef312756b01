import type { SandboxInfo } from '../sandbox/info.js';
import type { SandboxOptions } from '../sandbox/options.js';
import type { SandboxHost, SandboxLike } from '../sandbox/sandbox-host.js';
import { SessionEndedError } from './errors.js';

/** What ending a session did to the sandboxes it made. */
export interface SessionEnd {
  /** Non-persistent sandboxes removed. */
  removed: string[];
  /** Persistent ones left as they are (let go of, not stopped). */
  kept: string[];
  /** Sandboxes whose removal failed, with the error's code and message. */
  failed: { name: string; code: string; message: string }[];
}

interface Made {
  sandbox: SandboxLike;
  persistent: boolean;
}

/**
 * The sandboxes one MCP session made. They stay open for the session (a
 * remote host renews their lease while they are open) and are removed when
 * it ends, unless made `persistent`. Others the tools reach are opened for
 * one call and let go of after it.
 */
export class McpSession {
  readonly #host: SandboxHost;
  readonly #made = new Map<string, Made>();
  /** Creates in flight: ending waits for them, so none is made after cleanup and left behind. */
  readonly #creating = new Set<Promise<unknown>>();
  #end: Promise<SessionEnd> | undefined;

  constructor(host: SandboxHost) {
    this.#host = host;
  }

  get ending(): boolean {
    return this.#end !== undefined;
  }

  /** Whether this session made the sandbox `name` (and will remove it unless persistent). */
  made(name: string): boolean {
    return this.#made.has(name);
  }

  async create(options: SandboxOptions): Promise<SandboxLike> {
    if (this.ending) throw new SessionEndedError();
    const creating = this.#host.create(options);
    this.#creating.add(creating);
    try {
      const sandbox = await creating;
      this.#made.set(sandbox.name, { sandbox, persistent: options.persistent === true });
      return sandbox;
    } finally {
      this.#creating.delete(creating);
    }
  }

  /** Runs `use` with the sandbox `name`: the session's own, or one opened for this call. */
  async with<T>(name: string, use: (sandbox: SandboxLike) => Promise<T>): Promise<T> {
    if (this.ending) throw new SessionEndedError();
    const own = this.#made.get(name);
    if (own) return use(own.sandbox);
    const sandbox = await this.#host.open(name);
    try {
      return await use(sandbox);
    } finally {
      await sandbox.close();
    }
  }

  async info(name: string): Promise<SandboxInfo> {
    return this.with(name, (sandbox) => sandbox.info());
  }

  /** Removes the sandbox `name` (any the host has, not only the session's). */
  async remove(name: string): Promise<void> {
    await this.with(name, (sandbox) => sandbox.remove());
    this.#made.delete(name);
  }

  /**
   * Ends the session: waits for creates in flight, removes every sandbox it
   * made that is not persistent and lets go of the others. Idempotent: a
   * second call returns the first one's outcome.
   */
  end(): Promise<SessionEnd> {
    this.#end ??= this.#cleanUp();
    return this.#end;
  }

  async #cleanUp(): Promise<SessionEnd> {
    await Promise.allSettled([...this.#creating]);
    const outcome: SessionEnd = { removed: [], kept: [], failed: [] };
    await Promise.all(
      [...this.#made].map(async ([name, { sandbox, persistent }]) => {
        try {
          if (persistent) {
            await sandbox.close();
            outcome.kept.push(name);
          } else {
            await sandbox.remove();
            await sandbox.close();
            outcome.removed.push(name);
          }
        } catch (error) {
          // Removed meanwhile by someone else (the CLI, another client): nothing left to remove.
          if ((error as { kind?: unknown }).kind === 'not-found') outcome.removed.push(name);
          else outcome.failed.push({ name, ...describe(error) });
        }
      }),
    );
    this.#made.clear();
    for (const list of [outcome.removed, outcome.kept]) list.sort();
    return outcome;
  }
}

function describe(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: typeof code === 'string' ? code : 'INTERNAL',
    message: error instanceof Error ? error.message : String(error),
  };
}
