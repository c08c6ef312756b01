import { createRequire } from 'node:module';

type KoffiModule = typeof import('koffi');

let loaded: KoffiModule | undefined;

/**
 * koffi, loaded on first use: importing hcs-sandbox must never load a native
 * module (a platform without koffi's binary then fails only when HCS is used).
 */
export function koffi(): KoffiModule {
  loaded ??= createRequire(import.meta.url)('koffi') as KoffiModule;
  return loaded;
}
