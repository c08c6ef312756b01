export { nativeCallbackSlots } from './computecore.js';
export { FunctionUnavailableError, HcsUnavailableError } from './errors.js';
export * from './jobs-api.js';
export * from './network-provider.js';
export { type NativeBindings, nativeBindings, setNativeBindings } from './provider.js';
export { type StorageBindings, setStorageBindings, storageBindings } from './storage-provider.js';
export * from './storage-types.js';
export * from './types.js';
