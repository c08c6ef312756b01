import { type ComputeSystem, HcsError } from '../hcs/index.js';
import { InvalidArgumentError } from '../internal/errors.js';
import type { IsolationDriver } from './drivers/driver.js';
import { LimitUpdateUnsupportedError } from './errors.js';
import { hostFacts } from './host.js';
import { normaliseOptions } from './options.js';
import type { SandboxRecord } from './record.js';
import type { TransitionPatch } from './state-store.js';

export interface LimitChanges {
  memoryMB?: number;
  cpus?: number;
  cpuLimit?: number;
}

/**
 * `Sandbox.update`'s work: checks the new limits as `create` would, asks the
 * sandbox's driver which HCS modify requests they are, and applies them to the
 * running system. Returns the options to record (cpus and cpuLimit replace each other).
 */
export async function applyLimits(
  record: SandboxRecord,
  driver: IsolationDriver,
  running: () => ComputeSystem,
  limits: LimitChanges,
): Promise<NonNullable<TransitionPatch['options']>> {
  const host = hostFacts();
  // Checked before the sandbox's state, as `create` checks them.
  const checked = normaliseOptions(
    {
      image: record.image ?? 'x',
      isolation: record.isolation,
      ...(limits.memoryMB !== undefined && { memoryMB: limits.memoryMB }),
      ...(limits.cpus !== undefined && { cpus: limits.cpus }),
      ...(limits.cpuLimit !== undefined && { cpuLimit: limits.cpuLimit }),
    },
    host,
  );
  const requests = driver.limitRequests(
    {
      ...(checked.memoryMB !== undefined && { memoryMB: checked.memoryMB }),
      ...(checked.cpus !== undefined && { cpus: checked.cpus }),
      ...(checked.cpuLimit !== undefined && { cpuLimit: checked.cpuLimit }),
    },
    host,
  );
  const system = running();
  if (requests.length === 0) throw new InvalidArgumentError('limits', 'memoryMB, cpus or cpuLimit', limits);
  for (const request of requests) {
    try {
      await system.modify(request);
    } catch (error) {
      if (error instanceof HcsError && (error.isNotSupported() || error.isInvalidState())) {
        throw new LimitUpdateUnsupportedError(record.name, String(request.ResourcePath), error);
      }
      throw error;
    }
  }
  return {
    ...(checked.memoryMB !== undefined && { memoryMB: checked.memoryMB }),
    ...(checked.cpus !== undefined && { cpus: checked.cpus, cpuLimit: undefined }),
    ...(checked.cpuLimit !== undefined && { cpuLimit: checked.cpuLimit, cpus: undefined }),
  };
}
