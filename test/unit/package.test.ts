import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadedFiles, writeLoadReporter } from '../support/loaded-modules.js';

/**
 * The package as users get it: `npm pack` of a clean copy of the sources (so
 * stale files in the working tree's dist/ cannot hide or fake anything), with
 * the `prepare` script building dist/ exactly as `npm install <git url>` does,
 * then installed into an empty project to run its bin.
 */

const repo = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; import: string }>;
};

let work: string;
let tarball: string;
let unpacked: string;
let files: string[];

/** Runs a command quietly, returning its stdout (its output on failure is in the error). */
function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hcs-pack-'));
  const stage = join(work, 'stage');
  mkdirSync(stage);
  // What the repository holds that the package could draw from, plus decoys `files` must leave out.
  for (const entry of [
    'package.json',
    'README.md',
    'LICENSE',
    'docs',
    'src',
    'tsconfig.json',
    'tsconfig.build.json',
    'scripts/bundle-cli.mjs',
    'scripts/build-agent.mjs',
    'agent',
  ]) {
    mkdirSync(dirname(join(stage, entry)), { recursive: true });
    cpSync(join(repo, entry), join(stage, entry), { recursive: true });
  }
  for (const decoy of [
    'test/unit/decoy.test.ts',
    'test/fixtures/decoy.json',
    '.cache/decoy',
    'examples/decoy.mjs',
  ]) {
    mkdirSync(dirname(join(stage, decoy)), { recursive: true });
    writeFileSync(join(stage, decoy), 'decoy');
  }
  symlinkSync(join(repo, 'node_modules'), join(stage, 'node_modules'), 'junction');
  const out = join(work, 'out');
  mkdirSync(out);
  run('npm', ['pack', '--pack-destination', out], stage); // runs `prepare`: clean, then build
  const [name] = readdirSync(out);
  tarball = join(out, name!);
  unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  run('tar', ['-xzf', tarball, '-C', unpacked], work);
  files = run('tar', ['-tzf', tarball], work)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^package\//, ''));
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A file from the unpacked tarball. */
function packed(path: string): string {
  return readFileSync(join(unpacked, 'package', path), 'utf8');
}

describe('npm pack', () => {
  it('holds the license, the readme, the entry points and the bin with its shebang', () => {
    for (const path of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']) {
      expect(files).toContain(path);
    }
    expect(packed('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the hcs-sandbox authors\n/);
    const bin = pkg.bin['hcs-sandbox']!.replace(/^\.\//, '');
    expect(bin).toBe('dist/cli/main.js');
    expect(files).toContain(bin);
    expect(packed(bin).split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  // The build runs scripts/build-agent.mjs: with MinGW-w64 present (the suite's test host
  // installs it before any tier runs) the agent and the relay are in the package.
  it('ships the guest agent and the host relay as Windows x64 executables', () => {
    for (const exe of ['dist/agent/agent.exe', 'dist/agent/hvsock-relay.exe']) {
      expect(files).toContain(exe);
      const bytes = readFileSync(join(unpacked, 'package', exe));
      expect(bytes.subarray(0, 2).toString('latin1')).toBe('MZ');
      // IMAGE_FILE_HEADER.Machine after the PE signature: 0x8664 is x64.
      const pe = bytes.readUInt32LE(0x3c);
      expect(bytes.subarray(pe, pe + 4).toString('latin1')).toBe('PE\0\0');
      expect(bytes.readUInt16LE(pe + 4)).toBe(0x8664);
    }
  });

  it('holds every file package.json "exports" names', () => {
    for (const target of Object.values(pkg.exports)) {
      for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
        expect(files).toContain(path.replace(/^\.\//, ''));
      }
    }
  });

  it('holds no tests, fixtures, caches, examples or sources', () => {
    const unwanted = files.filter((path) =>
      /^(test|test-host|examples|src|bench|scripts|agent|\.cache|node_modules)\/|fixtures?\//.test(path),
    );
    expect(unwanted).toEqual([]);
  });

  it('ships no source map that points outside the package (it ships none today)', () => {
    const maps = files.filter((path) => path.endsWith('.map'));
    for (const map of maps) {
      const { sources } = JSON.parse(packed(map)) as { sources: string[] };
      for (const source of sources) expect(files).toContain(posix.join(posix.dirname(map), source));
    }
    for (const js of files.filter((path) => path.endsWith('.js'))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(packed(js))?.[1];
      if (url) expect(files).toContain(posix.join(posix.dirname(js), url));
    }
    expect(maps).toEqual([]);
  });

  it('strips @internal members from the type declarations', () => {
    const leaking = files.filter((path) => path.endsWith('.d.ts') && packed(path).includes('@internal'));
    expect(leaking).toEqual([]);
  });

  it('installs into an empty project whose bin runs', () => {
    const project = installed();
    expect(existsSync(join(project, 'node_modules', 'hcs-sandbox', 'dist', 'cli', 'main.js'))).toBe(true);
    // What a user types after `npm install <git url>`: the flag, and the verb with its details.
    expect(run('npx', ['--no-install', 'hcs-sandbox', '--version'], project).trim()).toBe(pkg.version);
    const output = run('npx', ['--no-install', 'hcs-sandbox', 'version'], project);
    expect(output.split('\n')[0]).toMatch(new RegExp(`^hcs-sandbox ${pkg.version.replace(/\./g, '\\.')} `));
  }, 120_000);

  // Cold start (issue 16): a module costs ~1 ms to load on Linux and ~3 ms under Wine, so the
  // bin is bundled (scripts/bundle-cli.mjs) and the heavy dependencies load on first use
  // (src/internal/lazy-dependency.ts). Counted, not timed: what each command loads.
  it('starts from a bundle: --help reads one file, ls two, and none of ajv, saxes, tar-stream', () => {
    const help = modulesLoaded(['--help']).files;
    const { files: ls, result } = modulesLoaded(['ls']);
    const own = (files: string[]) => files.filter((f) => f.includes('/node_modules/hcs-sandbox/dist/'));
    const names = (files: string[]) => own(files).map((f) => f.slice(f.lastIndexOf('/dist/') + 1));
    const bytes = (files: string[]) => own(files).reduce((sum, f) => sum + statSync(f).size, 0);
    const dependencies = (files: string[]) =>
      [...new Set(files.map((f) => /\/node_modules\/(?!hcs-sandbox\/)((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]))]
        .filter((name) => name !== undefined)
        .sort();
    // The CLI is one file, commander included.
    expect(names(help)).toEqual(['dist/cli/main.js']);
    expect(dependencies(help)).toEqual([]);
    // `ls` adds the listing (src/sandbox/list.ts and what it imports): not the SDK, whose chunk
    // is over 700 kB, and none of the heavy dependencies (koffi only on Windows).
    expect(names(ls)).toEqual(['dist/cli/main.js', 'dist/cli/sdk-list.js']);
    for (const heavy of [
      'ajv',
      'saxes',
      'tar-stream',
      'cli-progress',
      'commander',
      '@modelcontextprotocol/sdk',
      'zod',
      'koffi',
    ]) {
      expect(dependencies(ls)).not.toContain(heavy);
    }
    expect(bytes(ls)).toBeLessThanOrEqual(350_000);
    // Off Windows it fails as before, the SDK's error classified without the SDK (cli/sdk.ts isSdkError).
    expect(result.stderr).toMatch(
      /^hcs-sandbox: hcs-sandbox drives the Windows Host Compute Service and runs on Windows only/m,
    );
    expect(result.stderr).not.toContain('unexpected error');
    expect(result.status).toBe(1);
  }, 120_000);

  // `mcp` from the installed package: its chunk finds the MCP SDK and zod among the package's
  // dependencies, and speaks MCP on stdio. Off Windows a tool that needs HCS fails with the
  // product's code as a tool error; the session ends when the client closes stdin.
  it('serves MCP over stdio from the installed bin', async () => {
    const dir = installed();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(dir, 'node_modules', 'hcs-sandbox', 'dist', 'cli', 'main.js'), 'mcp'],
      env: { ...(process.env as Record<string, string>), HCS_SANDBOX_HOME: mkdtempSync(join(work, 'home-')) },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    await client.connect(transport);
    expect(client.getServerVersion()).toMatchObject({ name: 'hcs-sandbox', version: pkg.version });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('sandbox_run');
    const list = await client.callTool({ name: 'sandbox_list', arguments: {} });
    expect(list.isError).toBe(true);
    expect((list.structuredContent as { error: { code: string } }).error.code).toMatch(
      /^(?!INTERNAL$)[A-Z_]+$/,
    );
    await client.close();
    expect(stderr).toContain(`hcs-sandbox mcp ${pkg.version}: serving on stdio\n`);
    expect(stderr).toContain('session ended\n');
  }, 120_000);
});

let project: string | undefined;

/** The tarball installed into an empty project (once). */
function installed(): string {
  if (project) return project;
  const dir = join(work, 'project');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'try', version: '1.0.0', private: true }));
  // The dependencies are in npm's cache after `npm ci`: no network needed.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
  project = dir;
  return dir;
}

/**
 * The files the installed bin loads for `args` (ES modules through a loader
 * hook, CommonJS ones from require's cache at exit), against an empty store;
 * whatever the exit code (`ls` fails off Windows, after loading what it needs).
 */
function modulesLoaded(args: string[]): { files: string[]; result: SpawnSyncReturns<string> } {
  const dir = installed();
  const hook = writeLoadReporter(work);
  const home = mkdtempSync(join(work, 'home-'));
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      pathToFileURL(hook).href,
      join(dir, 'node_modules', 'hcs-sandbox', 'dist', 'cli', 'main.js'),
      ...args,
    ],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, HCS_SANDBOX_HOME: home } },
  );
  const files = loadedFiles(result.stderr);
  expect(files.length).toBeGreaterThan(0); // the hook ran
  return { files, result };
}
