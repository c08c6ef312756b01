// The no-follow file part of the native layer (ntdll), re-exported by native/index.ts.
export { filesNative, setFilesNative } from './provider.js';
export * from './types.js';
