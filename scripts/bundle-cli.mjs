#!/usr/bin/env node
// Bundles the built CLI (dist/cli/*.js, as tsc wrote it) into a few files in
// dist/cli, the bin being dist/cli/main.js as before. Why (issue 16, cold
// start): unbundled, `hcs-sandbox --help` loads 45 modules and `ls` some 350,
// and a module costs ~1 ms on Linux and several under Wine, which was most of
// the CLI's start-up. The SDK stays in chunks that only a verb that runs
// loads (src/cli/sdk.ts imports it with import()); koffi stays outside (a
// native addon), as do ajv, saxes, tar-stream and cli-progress, which the code
// loads on first use with require (src/internal/lazy-dependency.ts).
//
// Every chunk lands in dist/cli itself: the CLI reads ../../package.json
// relative to its module (src/cli/package-version.ts, src/probe/host.ts), and
// the SDK entry points (dist/index.js, dist/hcs/...) are untouched.
//
//   node scripts/bundle-cli.mjs      (after tsc -p tsconfig.build.json; `npm run build` does both)
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'rolldown';

const dist = join(import.meta.dirname, '..', 'dist');
const cli = join(dist, 'cli');
const staging = join(dist, '.cli-bundle');
if (!existsSync(join(cli, 'main.js')))
  throw new Error('dist/cli/main.js is missing: run tsc -p tsconfig.build.json first');

/**
 * The modules `file` imports statically, and theirs (tsc's output: relative
 * `from '...'` and bare `import '...'`; import() is left out, loaded later).
 */
function staticClosure(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const imports =
    /^(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|^import\s*['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const match of text.matchAll(imports))
    staticClosure(resolve(dirname(file), match[1] ?? match[2]), seen);
  return seen;
}
// What `ls` loads (src/cli/sdk-list-entries.ts: the listing, src/sandbox/list.ts, and the error
// classes): a chunk of its own, which the SDK chunk imports; so `ls` reads neither the SDK nor
// its generated HCS schema. Matched by path (rolldown's ids are absolute paths).
const listing = staticClosure(join(cli, 'sdk-list-entries.js'));
const inListing = (id) => listing.has(resolve(id));

rmSync(staging, { recursive: true, force: true });
await build({
  input: join(cli, 'main.js'),
  platform: 'node',
  // The MCP SDK and zod too: only `mcp` loads them, from node_modules, through its own chunk.
  external: [
    /^node:/,
    'koffi',
    'ajv',
    'saxes',
    'tar-stream',
    'cli-progress',
    /^@modelcontextprotocol\/sdk\//,
    'zod',
  ],
  logLevel: 'warn',
  onLog(level, log, handler) {
    // The SDK's own import()s (native/security, loaded on first use) land in the one SDK chunk
    // anyway: that is the point, not a mistake to report.
    if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
    handler(level, log);
  },
  output: {
    dir: staging,
    format: 'esm',
    entryFileNames: 'main.js',
    // JSDoc is for readers of the sources, not the runtime: a few dozen kB less to read and parse.
    comments: { legal: true, annotation: true, jsdoc: false },
    chunkFileNames: 'chunk-[name]-[hash].js',
    // The SDK (every module of dist/ outside dist/cli, and sdk-entries.js that
    // src/cli/sdk.ts imports them through) in one chunk, which only a verb
    // that runs loads, whole: one file rather than twenty. (A second group for
    // the CLI's own shared modules pulled the SDK chunk into --help: no.)
    codeSplitting: {
      groups: [
        { name: 'sdk-list', priority: 2, test: inListing },
        {
          name: 'sdk',
          priority: 1,
          test: (id) =>
            !inListing(id) &&
            /[\\/]dist[\\/](?!cli[\\/]|mcp[\\/])|[\\/]dist[\\/]cli[\\/]sdk-entries\.js$/.test(id),
        },
        // The MCP server (src/mcp/, which only `mcp` loads) in a chunk of its own, outside the SDK's:
        // that would import the MCP SDK for every verb. Last, so what it shares with the SDK (the
        // error classes) stays in the SDK's chunks, one class, one identity.
        { name: 'mcp', priority: 0, test: (id) => /[\\/]dist[\\/]mcp[\\/]/.test(id) },
      ],
    },
  },
});
// tsc's per-module files (and their .d.ts: the CLI has no public types) give way to the bundle.
rmSync(cli, { recursive: true, force: true });
renameSync(staging, cli);
