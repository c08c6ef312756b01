import { createRequire } from 'node:module';

/**
 * This package's version, from its package.json. Every CLI module sits two
 * folders below package.json once built (src/cli/*.ts, dist/cli/*.js: the CLI
 * is bundled into dist/cli, see scripts/bundle-cli.mjs), so the path is
 * resolved from here, never from a module deeper in cli/.
 */
export function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
