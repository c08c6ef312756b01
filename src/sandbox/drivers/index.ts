import type { SandboxIsolation } from '../record.js';
import type { IsolationDriver } from './driver.js';
import { hypervDriver } from './hyperv.js';
import { processDriver } from './process.js';
import { vmDriver } from './vm.js';

export type { IsolationDriver, Limits, LiveSandbox, PreparedDisks, StartedSandbox } from './driver.js';

const DRIVERS: Record<SandboxIsolation, IsolationDriver> = {
  process: processDriver,
  hyperv: hypervDriver,
  vm: vmDriver,
};

/** The one place that looks at a sandbox's isolation: everything after asks the driver. */
export function driverFor(isolation: SandboxIsolation): IsolationDriver {
  return DRIVERS[isolation];
}
