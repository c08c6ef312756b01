import { createRequire } from 'node:module';
import type { LibraryHandle } from 'koffi';

type KoffiModule = typeof import('koffi');

/** A bound DLL function, as koffi's `lib.func` returns it. */
export type KoffiFunction = ReturnType<LibraryHandle['func']>;
/** A pointer as koffi passes it through `void *`: an address, or null. */
export type Pointer = bigint | null;

let loaded: KoffiModule | undefined;

/**
 * koffi, loaded on first use: importing hcs-sandbox must never load a native
 * module (a platform without koffi's binary then fails only when HCS is used).
 */
export function koffi(): KoffiModule {
  loaded ??= createRequire(import.meta.url)('koffi') as KoffiModule;
  return loaded;
}
