import { join } from 'node:path';
import { readIfExists, writeFileAtomic } from '../../internal/atomic-file.js';
import { StateCorruptError } from '../../sandbox/index.js';
import { secureStoreRoot } from '../../storage/index.js';

/**
 * Who owns each sandbox made through the API, and when it goes (docs/remote.md,
 * "Leases"). Kept in `<store root>/serve-leases.json` rather than in the
 * sandbox records: a record's options describe the sandbox, while owner and
 * clocks are the server's business, and this way a record written by an
 * older or newer SDK is never touched. A restarted server reads the file and
 * resumes every clock where it stood.
 */

export interface Lease {
  name: string;
  /** The compute system id: a sandbox removed behind the server's back and made again under the same name is not this one. */
  id: string;
  /** The token name that created it. */
  owner: string;
  persistent: boolean;
  /** What the memory quota counts for it. */
  memoryMB: number;
  /** Epoch ms after which a non-persistent sandbox nobody renewed is removed; null when persistent. */
  leaseExpiresAt: number | null;
  /** Epoch ms at which it is removed whatever else happens; null for no lifetime. */
  lifetimeEndsAt: number | null;
}

const FILE_NAME = 'serve-leases.json';

export class LeaseBook {
  readonly path: string;
  readonly leaseMs: number;
  readonly #root: string;
  readonly #leases = new Map<string, Lease>();
  /** Open streams (WebSockets) per sandbox: a held lease is renewed on every sweep. */
  readonly #holds = new Map<string, number>();
  #dirty = false;

  private constructor(root: string, leaseMs: number) {
    this.#root = root;
    this.path = join(root, FILE_NAME);
    this.leaseMs = leaseMs;
  }

  static async open(root: string, leaseMs: number): Promise<LeaseBook> {
    const book = new LeaseBook(root, leaseMs);
    const text = await readIfExists(book.path);
    if (text !== undefined) {
      let parsed: { leases?: Lease[] };
      try {
        parsed = JSON.parse(text) as { leases?: Lease[] };
      } catch (error) {
        throw new StateCorruptError(book.path, `not JSON: ${(error as Error).message}`);
      }
      if (!Array.isArray(parsed.leases)) throw new StateCorruptError(book.path, 'no "leases" array');
      for (const lease of parsed.leases) book.#leases.set(lease.name, lease);
    }
    return book;
  }

  get(name: string): Lease | undefined {
    return this.#leases.get(name);
  }

  ownedBy(owner: string): Lease[] {
    return [...this.#leases.values()].filter((l) => l.owner === owner);
  }

  async add(lease: Lease): Promise<void> {
    this.#leases.set(lease.name, lease);
    await this.flush(true);
  }

  async delete(name: string): Promise<void> {
    if (this.#leases.delete(name)) await this.flush(true);
  }

  /** Pushes a non-persistent lease's end `leaseMs` from now; written out on the next flush. */
  renew(name: string, now = Date.now()): void {
    const lease = this.#leases.get(name);
    if (!lease || lease.leaseExpiresAt === null) return;
    lease.leaseExpiresAt = now + this.leaseMs;
    this.#dirty = true;
  }

  /** Keeps the lease renewed until the returned release is called (an open stream). */
  hold(name: string): () => void {
    this.#holds.set(name, (this.#holds.get(name) ?? 0) + 1);
    this.renew(name);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#holds.get(name) ?? 1) - 1;
      if (left > 0) this.#holds.set(name, left);
      else this.#holds.delete(name);
      this.renew(name);
    };
  }

  /** The leases whose lease lapsed or lifetime ended at `now`, with why. */
  due(now = Date.now()): { lease: Lease; reason: 'lease' | 'lifetime' }[] {
    for (const name of this.#holds.keys()) this.renew(name, now);
    const out: { lease: Lease; reason: 'lease' | 'lifetime' }[] = [];
    for (const lease of this.#leases.values()) {
      if (lease.lifetimeEndsAt !== null && now >= lease.lifetimeEndsAt)
        out.push({ lease, reason: 'lifetime' });
      else if (lease.leaseExpiresAt !== null && now >= lease.leaseExpiresAt)
        out.push({ lease, reason: 'lease' });
    }
    return out;
  }

  /** Writes the file if anything changed (or `force`); the store root is checked first, as for every store write. */
  async flush(force = false): Promise<void> {
    if (!force && !this.#dirty) return;
    this.#dirty = false;
    await secureStoreRoot(this.#root);
    const leases = [...this.#leases.values()].sort((a, b) => a.name.localeCompare(b.name));
    await writeFileAtomic(this.path, `${JSON.stringify({ version: 1, leases }, null, 2)}\n`);
  }
}
