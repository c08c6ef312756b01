// The job-object part of the native layer (kernel32), re-exported by native/index.ts.
export { Win32CallError } from './errors.js';
export { KoffiJobsNative } from './kernel32.js';
export { jobsNative, setJobsNative } from './provider.js';
export { jobStructLayouts, type StructLayout } from './structs.js';
export * from './types.js';
