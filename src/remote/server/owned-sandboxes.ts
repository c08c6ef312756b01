import { randomBytes } from 'node:crypto';
import type { SandboxInfo } from '../../sandbox/index.js';
import { SandboxNotFoundError } from '../../sandbox/index.js';
import type { SandboxLike } from '../../sandbox/sandbox-host.js';
import type { TokenEntry } from './auth.js';
import type { ServeBackend } from './backend.js';
import type { LeaseBook } from './leases.js';
import { countedMemoryMB, grantedLifetimeSeconds, QuotaGate } from './quotas.js';
import type { CreateRequest } from './requests.js';

/**
 * The sandboxes each token owns, as the routes see them. A token sees only
 * its own: any other name, existing or not, is SANDBOX_NOT_FOUND, so the API
 * is no oracle for what others run. Sandbox objects stay open between
 * requests: an ephemeral sandbox's compute system ends when its last handle
 * closes (ShouldTerminateOnLastHandleClosed), so the server holds one for as
 * long as the sandbox is leased.
 */
export class OwnedSandboxes {
  readonly #backend: ServeBackend;
  readonly #leases: LeaseBook;
  readonly #quotas = new QuotaGate();
  readonly #open = new Map<string, Promise<SandboxLike>>();

  constructor(backend: ServeBackend, leases: LeaseBook) {
    this.#backend = backend;
    this.#leases = leases;
  }

  async create(token: TokenEntry, request: CreateRequest): Promise<SandboxInfo> {
    const { options } = request;
    const memoryMB = countedMemoryMB(options.isolation, options.memoryMB);
    const release = this.#quotas.reserve(token, this.#leases, memoryMB);
    try {
      // A name chosen here (the SDK would choose one too) is known before the create returns.
      const name = options.name ?? `remote-${randomBytes(4).toString('hex')}`;
      const sandbox = await this.#backend.sandboxes.create({ ...options, name });
      const lifetime = grantedLifetimeSeconds(token, request.lifetimeSeconds);
      const now = Date.now();
      const adding = this.#leases.add({
        name: sandbox.name,
        id: sandbox.id,
        owner: token.name,
        persistent: options.persistent,
        memoryMB,
        leaseExpiresAt: options.persistent ? null : now + this.#leases.leaseMs,
        lifetimeEndsAt: lifetime === undefined ? null : now + lifetime * 1000,
      });
      // The lease now counts (add records it before it writes): the reservation must not count twice.
      release();
      await adding;
      this.#open.set(sandbox.name, Promise.resolve(sandbox));
      return await sandbox.info();
    } finally {
      release();
    }
  }

  /** The token's sandboxes, as the SDK lists them. */
  async list(token: TokenEntry): Promise<SandboxInfo[]> {
    const mine = new Map(this.#leases.ownedBy(token.name).map((l) => [l.name, l.id]));
    if (mine.size === 0) return [];
    const all = await this.#backend.sandboxes.list();
    return all.filter((info) => mine.get(info.name) === info.id);
  }

  /**
   * The token's sandbox `name`, its lease renewed (any request about a sandbox
   * renews it).
   *
   * @throws SandboxNotFoundError when there is none, or it is another token's
   */
  async get(token: TokenEntry, name: string): Promise<SandboxLike> {
    const lease = this.#leases.get(name);
    if (!lease || lease.owner !== token.name) throw new SandboxNotFoundError(name);
    const sandbox = await this.#opened(name);
    if (sandbox.id !== lease.id) {
      // Removed behind the server's back and made again by someone else: not this token's.
      await this.#forget(name);
      throw new SandboxNotFoundError(name);
    }
    this.#leases.renew(name);
    return sandbox;
  }

  async remove(token: TokenEntry, name: string): Promise<void> {
    const sandbox = await this.get(token, name);
    await this.#removeSandbox(name, sandbox);
  }

  /** Removes a sandbox whose lease lapsed or lifetime ended (the reaper's call). */
  async expire(name: string): Promise<void> {
    const lease = this.#leases.get(name);
    if (!lease) return;
    let sandbox: SandboxLike;
    try {
      sandbox = await this.#opened(name);
    } catch (error) {
      if (error instanceof SandboxNotFoundError) return this.#forget(name);
      throw error;
    }
    if (sandbox.id !== lease.id) return this.#forget(name);
    await this.#removeSandbox(name, sandbox);
  }

  /** Lets go of every open sandbox (shutdown); ephemeral ones end with their last handle. */
  async closeAll(): Promise<void> {
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.allSettled(open.map(async (p) => (await p).close()));
  }

  async #removeSandbox(name: string, sandbox: SandboxLike): Promise<void> {
    try {
      await sandbox.remove();
    } catch (error) {
      if (!(error instanceof SandboxNotFoundError)) throw error;
    }
    await this.#forget(name);
  }

  async #forget(name: string): Promise<void> {
    const open = this.#open.get(name);
    this.#open.delete(name);
    await open?.then((s) => s.close()).catch(() => {});
    await this.#leases.delete(name);
  }

  #opened(name: string): Promise<SandboxLike> {
    let open = this.#open.get(name);
    if (!open) {
      open = this.#backend.sandboxes.open(name);
      this.#open.set(name, open);
      // A failed open is not kept: the next request tries again.
      open.catch(() => {
        if (this.#open.get(name) === open) this.#open.delete(name);
      });
    }
    return open;
  }
}
