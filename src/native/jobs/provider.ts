import { KoffiJobsNative } from './kernel32.js';
import type { JobsNativeApi } from './types.js';

let instance: JobsNativeApi | undefined;

/** The job-object bindings, created on first use (importing never loads kernel32). */
export function jobsNative(): JobsNativeApi {
  instance ??= new KoffiJobsNative();
  return instance;
}

/** Replaces the job-object bindings (tests), or resets to the real ones with `undefined`. */
export function setJobsNative(api: JobsNativeApi | undefined): void {
  instance = api;
}
