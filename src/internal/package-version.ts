import { createRequire } from 'node:module';

/**
 * This package's version, for the SDK's own records (the CLI has its copy in
 * src/cli/package-version.ts, as cli/ imports only public entry points). Every
 * built module sits two folders below package.json (dist/<layer>/x.js, and the
 * bundled CLI's chunks in dist/cli), so the path is resolved from here.
 */
export function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
