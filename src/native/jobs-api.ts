// The job-object part of the native layer (kernel32), re-exported by native/index.ts.
export { Win32CallError } from './jobs-errors.js';
export { jobsNative, KoffiJobsNative, setJobsNative } from './jobs-kernel32.js';
export { jobStructLayouts, type StructLayout } from './jobs-structs.js';
export * from './jobs-types.js';
