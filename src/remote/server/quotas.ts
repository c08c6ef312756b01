import type { TokenEntry } from './auth.js';
import { QuotaExceededError } from './errors.js';
import type { LeaseBook } from './leases.js';

/**
 * What the memory quota counts for a sandbox created without `memoryMB`: the
 * memory its isolation gives it by default (a utility VM's 1024 MB, a VM's
 * 4096 MB). A process container has no cap by default; it counts 1024 MB so
 * that a token cannot dodge the quota by leaving memoryMB out.
 */
export const DEFAULT_MEMORY_MB: Readonly<Record<string, number>> = { process: 1024, hyperv: 1024, vm: 4096 };

export function countedMemoryMB(isolation: string | undefined, memoryMB: number | undefined): number {
  return memoryMB ?? DEFAULT_MEMORY_MB[isolation ?? 'process'] ?? 1024;
}

/**
 * Creates under way, per token: counted against the quotas until their lease
 * is recorded, so that two creates at once cannot both fit in the last slot.
 */
export class QuotaGate {
  readonly #pending = new Map<string, { count: number; memoryMB: number }>();

  /**
   * Checks that one more sandbox of `memoryMB` fits the token's quotas and
   * reserves it; call the returned release when the create has ended (its
   * lease recorded, or failed).
   *
   * @throws QuotaExceededError
   */
  reserve(token: TokenEntry, leases: LeaseBook, memoryMB: number): () => void {
    const live = leases.ownedBy(token.name);
    const pending = this.#pending.get(token.name) ?? { count: 0, memoryMB: 0 };
    const count = live.length + pending.count;
    if (token.maxSandboxes !== undefined && count + 1 > token.maxSandboxes)
      throw new QuotaExceededError('maxSandboxes', token.maxSandboxes, count, 1);
    const memory = live.reduce((sum, l) => sum + l.memoryMB, 0) + pending.memoryMB;
    if (token.maxMemoryMB !== undefined && memory + memoryMB > token.maxMemoryMB)
      throw new QuotaExceededError('maxMemoryMB', token.maxMemoryMB, memory, memoryMB);
    this.#pending.set(token.name, { count: pending.count + 1, memoryMB: pending.memoryMB + memoryMB });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = this.#pending.get(token.name);
      if (!now) return;
      if (now.count <= 1) this.#pending.delete(token.name);
      else this.#pending.set(token.name, { count: now.count - 1, memoryMB: now.memoryMB - memoryMB });
    };
  }
}

/** The lifetime a sandbox gets: what it asked for, capped by the token's maxLifetimeSeconds. */
export function grantedLifetimeSeconds(token: TokenEntry, asked: number | undefined): number | undefined {
  if (token.maxLifetimeSeconds === undefined) return asked;
  return Math.min(asked ?? token.maxLifetimeSeconds, token.maxLifetimeSeconds);
}
