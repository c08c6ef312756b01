import { KoffiComputeNetwork } from './computenetwork.js';
import type { HcnApi } from './types.js';

export * from './types.js';

let current: HcnApi | undefined;

/**
 * The Host Compute Network bindings, created on first use (importing
 * hcs-sandbox never loads computenetwork.dll). The factory seam of
 * `core/provider.ts`: unit tests install an in-memory HCN with
 * {@link setNetworkBindings}.
 */
export function networkBindings(): HcnApi {
  current ??= new KoffiComputeNetwork();
  return current;
}

/** Replaces the HCN bindings (tests), or resets to the real ones with `undefined`. */
export function setNetworkBindings(bindings: HcnApi | undefined): void {
  current = bindings;
}
