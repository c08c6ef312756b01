import { KoffiFilesNative } from './ntdll.js';
import type { FilesNativeApi } from './types.js';

let instance: FilesNativeApi | undefined;

/** The no-follow file bindings, created on first use (importing never loads ntdll). */
export function filesNative(): FilesNativeApi {
  instance ??= new KoffiFilesNative();
  return instance;
}

/** Replaces the no-follow file bindings (tests), or resets to the real ones with `undefined`. */
export function setFilesNative(api: FilesNativeApi | undefined): void {
  instance = api;
}
