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
