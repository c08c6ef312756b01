/**
 * hcs-sandbox: isolated Windows sandboxes from code, through the Host Compute
 * Service. This entry exposes the HCS layer (compute systems, processes,
 * errors); the sandbox API builds on it.
 */
export * from './hcs/index.js';
export {
  ConflictError,
  type ErrorKind,
  HcsSandboxError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  UnavailableError,
} from './internal/errors.js';
export * from './jobs/index.js';
export * from './network/index.js';
export * from './probe/index.js';
export * from './sandbox/index.js';
export * from './schema/index.js';
export * from './storage/index.js';
