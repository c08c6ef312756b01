import { createRequire } from 'node:module';

/**
 * The heavy dependencies, loaded when a feature first needs them rather than
 * when hcs-sandbox is imported: ajv alone is 60-odd modules (~40 ms on a fast
 * machine, several times that under Wine), tar-stream and saxes another 20,
 * and a command such as `hcs-sandbox ls` uses none of them (issue 16, cold start).
 * They are CommonJS packages, so `require` loads them synchronously and the
 * APIs that use them stay synchronous.
 */
interface Dependencies {
  ajv: typeof import('ajv');
  saxes: typeof import('saxes');
  'tar-stream': typeof import('tar-stream');
}

const load = createRequire(import.meta.url);

/** The dependency `name`, loaded on first call (Node caches it after). */
export function dependency<Name extends keyof Dependencies>(name: Name): Dependencies[Name] {
  return load(name) as Dependencies[Name];
}

/**
 * Node built-ins that cost a process start 2 ms or more to load the first
 * time (node:crypto about 1.9 ms, node:net 2 ms on Linux node 20; more under
 * Wine), which modules on `hcs-sandbox ls`'s path need only when they write,
 * lock or start a process: loaded by the first call that needs them.
 */
interface Builtins {
  'node:crypto': typeof import('node:crypto');
  'node:net': typeof import('node:net');
}

/** The built-in module `name`, loaded on first call. */
export function builtin<Name extends keyof Builtins>(name: Name): Builtins[Name] {
  return load(name) as Builtins[Name];
}
