/** The SDK's public entry points, as sdk.ts loads them: in one import(). */
export * as hcs from '../hcs/index.js';
export * as root from '../index.js';
export * as jobs from '../jobs/index.js';
export * as network from '../network/index.js';
export * as storage from '../storage/index.js';
