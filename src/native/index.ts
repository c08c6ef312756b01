export { nativeCallbackSlots } from './computecore.js';
export { FunctionUnavailableError, HcsUnavailableError } from './errors.js';
export { type NativeBindings, nativeBindings, setNativeBindings } from './provider.js';
export * from './types.js';
