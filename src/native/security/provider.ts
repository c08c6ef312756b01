import { KoffiAdvapi32 } from './advapi32.js';
import type { SecurityApi } from './types.js';

let instance: SecurityApi | undefined;

/** The process-token bindings, created on first use (importing never loads advapi32). */
export function securityBindings(): SecurityApi {
  instance ??= new KoffiAdvapi32();
  return instance;
}

/** Replaces the process-token bindings (tests), or resets to the real ones with `undefined`. */
export function setSecurityBindings(api: SecurityApi | undefined): void {
  instance = api;
}
