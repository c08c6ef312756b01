import { readFileSync } from 'node:fs';

/**
 * This package's version, from its package.json. Every CLI module sits two
 * folders below package.json once built (src/cli/*.ts, dist/cli/*.js: the CLI
 * is bundled into dist/cli, see scripts/bundle-cli.mjs), so the path is
 * resolved from here, never from a module deeper in cli/. Read as a file, not
 * with require: require's resolution and module record cost every command
 * ~4 ms under Wine (issue 16, cold start).
 */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
