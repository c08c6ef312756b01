import { KoffiAdvapi32 } from './advapi32.js';
import { KoffiFileSecurity } from './file-security.js';
import type { FileSecurityApi, SecurityApi } from './types.js';

let instance: SecurityApi | undefined;
let files: FileSecurityApi | undefined;

/** The process-token bindings, created on first use (importing never loads advapi32). */
export function securityBindings(): SecurityApi {
  instance ??= new KoffiAdvapi32();
  return instance;
}

/** Replaces the process-token bindings (tests), or resets to the real ones with `undefined`. */
export function setSecurityBindings(api: SecurityApi | undefined): void {
  instance = api;
}

/** The folder security-descriptor bindings, created on first use. */
export function fileSecurityBindings(): FileSecurityApi {
  files ??= new KoffiFileSecurity();
  return files;
}

/** Replaces the folder security-descriptor bindings (tests), or resets them with `undefined`. */
export function setFileSecurityBindings(api: FileSecurityApi | undefined): void {
  files = api;
}
