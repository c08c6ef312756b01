import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
  loaded ??= loadKoffi();
  return loaded;
}

/**
 * koffi's entry point finds its binary by loading a second module and probing
 * for the platform's package, then wraps calls deprecated since koffi 2 that
 * this package never makes: ~15 ms of every `hcs-sandbox ls` under Wine
 * (measured, issue 16), where each module and file probe is slow. That binary
 * is koffi's optional dependency for this platform, pinned to koffi's own
 * version, and resolving it from koffi's folder finds the copy koffi itself
 * would load. When there is none (koffi built from source, an install without
 * optional dependencies) or it is not the version koffi pins, koffi's entry
 * point loads it, or says what is wrong.
 */
function loadKoffi(): KoffiModule {
  const require = createRequire(import.meta.url);
  try {
    const entry = require.resolve('koffi');
    const binary = createRequire(entry)(platformPackage()) as Partial<KoffiModule> | undefined;
    if (typeof binary?.load === 'function' && binary.version === koffiVersion(entry))
      return binary as KoffiModule;
  } catch {
    // Not installed this way: koffi's own loader below finds it or explains why not.
  }
  return require('koffi') as KoffiModule;
}

/** The name of koffi's binary package for this process (`@koromix/koffi-win32-x64`). */
export function platformPackage(): string {
  return `@koromix/koffi-${process.platform}-${process.arch}`;
}

/** The version in the package.json beside koffi's entry point `entry` (its exports hide it from require). */
function koffiVersion(entry: string): unknown {
  const manifest: unknown = JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8'));
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest
    ? manifest.version
    : undefined;
}
