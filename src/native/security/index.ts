export { securityBindings, setSecurityBindings } from './provider.js';
export * from './types.js';
