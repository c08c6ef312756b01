import type { LibraryHandle } from 'koffi';
import { FunctionUnavailableError } from './errors.js';
import type { KoffiFunction } from './koffi-module.js';
import { loadSystemLibrary } from './library.js';

/**
 * One DLL function as a koffi prototype, transcribed from the SDK header.
 * `minimumBuild` comes from the "Requirements" table of the function's page in
 * Microsoft's reference; a function absent on older builds is bound lazily and
 * reported as unavailable instead of failing the whole library.
 */
export interface Prototype {
  readonly signature: string;
  readonly minimumBuild?: string;
}

/**
 * Binds the functions of one DLL on first call, so a missing export fails only
 * the feature that needs it, and runs every call on koffi's worker pool.
 */
export class LazyLibrary<Name extends string> {
  readonly #name: string;
  readonly #prototypes: Record<Name, Prototype>;
  readonly #functions = new Map<Name, KoffiFunction | null>();
  #lib: LibraryHandle | undefined;

  constructor(name: string, prototypes: Record<Name, Prototype>) {
    this.#name = name;
    this.#prototypes = prototypes;
  }

  load(): void {
    this.#lib ??= loadSystemLibrary(this.#name);
  }

  has(name: string): boolean {
    return name in this.#prototypes && this.#bind(name as Name) !== null;
  }

  #bind(name: Name): KoffiFunction | null {
    if (!this.#functions.has(name)) {
      this.load();
      let fn: KoffiFunction | null = null;
      try {
        fn = (this.#lib as LibraryHandle).func(this.#prototypes[name].signature);
      } catch {
        fn = null; // not exported by this build
      }
      this.#functions.set(name, fn);
    }
    return this.#functions.get(name) ?? null;
  }

  /** Calls `name` off the main thread. */
  call<T>(name: Name, args: unknown[]): Promise<T> {
    let fn: KoffiFunction | null;
    try {
      fn = this.#bind(name);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!fn) {
      return Promise.reject(
        new FunctionUnavailableError(this.#name, name, this.#prototypes[name].minimumBuild),
      );
    }
    const bound = fn;
    return new Promise<T>((resolve, reject) => {
      bound.async(...args, (error: unknown, result: T) => (error ? reject(error) : resolve(result)));
    });
  }
}
