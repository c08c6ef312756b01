export {
  fileSecurityBindings,
  securityBindings,
  setFileSecurityBindings,
  setSecurityBindings,
} from './provider.js';
export * from './types.js';
