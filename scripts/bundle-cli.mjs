#!/usr/bin/env node
// Bundles the built CLI (dist/cli/*.js, as tsc wrote it) into dist/cli, the
// bin being dist/cli/main.js as before. Why (issue 16, cold start): a module
// costs ~1 ms on Linux and ~3 ms under Wine, where node's ESM loader reads
// each file through the thread pool, so the number of files a verb loads is
// most of its start-up once the code itself is lazy.
//
// Two builds:
//   1. The SDK as the CLI loads it, on demand (src/cli/sdk.ts and the verbs
//      that import() them): sdk.js (every entry point, sdk-entries.ts),
//      sdk-list.js (what `ls` needs: the listing and its error classes,
//      sdk-list-entries.ts), mcp.js and server.js (the `mcp` and `serve`
//      verbs), and the chunks they share. Entry chunks may carry more exports
//      than their module (preserveEntrySignatures 'allow-extension'), so the
//      listing is one file that the SDK imports in turn: one class, one
//      identity, whichever loaded it first.
//   2. The CLI itself, one file: main.js, commander and every verb, with the
//      four entries of build 1 as its only imports of SDK code. The CLI
//      reaches SDK values through sdk() (src/cli/sdk.ts) once a verb loaded
//      it; a static import of an SDK module from cli/ fails this build.
// koffi stays outside (a native addon), as do ajv, saxes, tar-stream and
// cli-progress, which the code loads on first use with require
// (src/internal/lazy-dependency.ts), and the MCP SDK and zod, which only mcp.js
// imports. The SDK entry points (dist/index.js, dist/hcs/...) are untouched.
// Every file lands in dist/cli itself: the CLI reads ../../package.json
// relative to its module (src/cli/package-version.ts, src/probe/host.ts).
//
//   node scripts/bundle-cli.mjs      (after tsc -p tsconfig.build.json; `npm run build` does both)
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build } from 'rolldown';

const dist = resolve(import.meta.dirname, '..', 'dist');
const cli = join(dist, 'cli');
const staging = join(dist, '.cli-bundle');
if (!existsSync(join(cli, 'main.js')))
  throw new Error('dist/cli/main.js is missing: run tsc -p tsconfig.build.json first');

/** Build 1's entries: output name -> the module tsc wrote. */
const SDK_ENTRIES = {
  sdk: join(cli, 'sdk-entries.js'),
  'sdk-list': join(cli, 'sdk-list-entries.js'),
  mcp: join(dist, 'mcp', 'index.js'),
  server: join(dist, 'remote', 'server', 'index.js'),
};
/**
 * The modules `file` can load, and theirs (tsc's output: relative
 * `from '...'`, bare `import '...'` and `import('...')`). import() counts:
 * `ls` on Windows import()s the file-security bindings to check the store
 * root's access list, and leaving them to the SDK chunk made `ls` read all of
 * it (~700 kB) there, though never on Linux.
 */
function loadClosure(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const imports =
    /^(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|^import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;
  for (const match of text.matchAll(imports))
    loadClosure(resolve(dirname(file), match[1] ?? match[2] ?? match[3]), seen);
  return seen;
}
// What `ls` loads: a chunk of its own, which the SDK's imports; matched by path (rolldown's ids are absolute).
const listing = loadClosure(SDK_ENTRIES['sdk-list']);
const inListing = (id) => listing.has(resolve(id));

const entryNameOf = new Map(Object.entries(SDK_ENTRIES).map(([name, file]) => [file, name]));

const EXTERNAL = [
  /^node:/,
  'koffi',
  'ajv',
  'saxes',
  'tar-stream',
  'cli-progress',
  /^@modelcontextprotocol\/sdk\//,
  'zod',
];

function quietDynamicImports(level, log, handler) {
  // Modules both imported and import()ed land in one chunk anyway: that is the point.
  if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
  handler(level, log);
}

// JSDoc is for readers of the sources, not the runtime: a few dozen kB less to read and parse.
const comments = { legal: true, annotation: true, jsdoc: false };

/**
 * commander requires node:child_process when it loads, for executable
 * subcommands (verbs in files of their own), which this CLI never declares;
 * that require, with the node:net it pulls in, was ~2.3 ms of every start on
 * Linux. Bundled, its `childProcess.spawn` loads the module on first call. If
 * commander changes that line the build fails here rather than silently
 * keeping the eager load.
 */
const commanderLazyChildProcess = {
  name: 'commander-lazy-child-process',
  transform(code, id) {
    if (!/[\\/]node_modules[\\/]commander[\\/]lib[\\/]command\.js$/.test(id)) return null;
    const eager = "const childProcess = require('node:child_process');";
    if (!code.includes(eager))
      this.error(`commander's ${id} no longer has \`${eager}\`: update scripts/bundle-cli.mjs`);
    const onDemand =
      "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
    return { code: code.replace(eager, onDemand), map: null };
  },
};

/**
 * Build 2's boundary: an import of one of build 1's entries becomes an
 * import of its output file; any other module outside dist/cli is SDK code
 * that the CLI imported statically, which would load the SDK for --help.
 */
const sdkBoundary = {
  name: 'sdk-boundary',
  async resolveId(source, importer, options) {
    // Only our modules' imports: commander's own files are its business.
    if (!importer?.startsWith(dist + sep) || !source.startsWith('.')) return null;
    const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
    if (!resolved || resolved.external) return resolved;
    const entry = entryNameOf.get(resolved.id);
    if (entry) return { id: `./${entry}.js`, external: true };
    if (!resolved.id.startsWith(cli + sep))
      this.error(
        `${relative(dist, importer)} imports ${relative(dist, resolved.id)}: the CLI reaches the SDK ` +
          'through sdk() (src/cli/sdk.ts), never with a static import',
      );
    return resolved;
  },
};

rmSync(staging, { recursive: true, force: true });

await build({
  input: SDK_ENTRIES,
  platform: 'node',
  external: EXTERNAL,
  preserveEntrySignatures: 'allow-extension',
  logLevel: 'warn',
  onLog: quietDynamicImports,
  output: {
    dir: staging,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunk-[name]-[hash].js',
    comments,
    codeSplitting: {
      groups: [
        { name: 'sdk-list', priority: 2, test: inListing },
        { name: 'sdk', priority: 1, test: (id) => !inListing(id) && !/[\\/]dist[\\/]mcp[\\/]/.test(id) },
      ],
    },
  },
});

await build({
  input: join(cli, 'main.js'),
  platform: 'node',
  external: EXTERNAL,
  plugins: [sdkBoundary, commanderLazyChildProcess],
  logLevel: 'warn',
  onLog: quietDynamicImports,
  // One file: the CLI's own import()s (none is left that loads SDK code) are inlined.
  output: { dir: staging, format: 'esm', entryFileNames: 'main.js', codeSplitting: false, comments },
});

// tsc's per-module files (and their .d.ts: the CLI has no public types) give way to the bundle.
rmSync(cli, { recursive: true, force: true });
renameSync(staging, cli);
