// The native layer's entry: the only koffi importer, one folder per DLL family
// (core: computecore, storage: computestorage + virtdisk, network:
// computenetwork, jobs: kernel32 job objects, security: advapi32 process token,
// files: ntdll opens that never follow a link)
// over the plumbing in shared/.
export { nativeCallbackSlots } from './core/callbacks.js';
export { type NativeBindings, nativeBindings, setNativeBindings } from './core/provider.js';
export * from './core/types.js';
export * from './files/index.js';
export * from './jobs/index.js';
export * from './network/provider.js';
export { type HandleKind, type HostFactsApi, hostFacts, setHostFacts } from './probe/host-facts.js';
export * from './security/index.js';
export { FunctionUnavailableError, HcsUnavailableError } from './shared/errors.js';
export type { HResult, Kernel32Api, Win32Handle } from './shared/types.js';
export { type StorageBindings, setStorageBindings, storageBindings } from './storage/provider.js';
export * from './storage/types.js';
