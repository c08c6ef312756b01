import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
  ]) {
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

  it('holds every file package.json "exports" names', () => {
    for (const target of Object.values(pkg.exports)) {
      for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
        expect(files).toContain(path.replace(/^\.\//, ''));
      }
    }
  });

  it('holds no tests, fixtures, caches, examples or sources', () => {
    const unwanted = files.filter((path) =>
      /^(test|test-host|examples|src|bench|scripts|\.cache|node_modules)\/|fixtures?\//.test(path),
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
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'try', version: '1.0.0', private: true }),
    );
    // The dependencies are in npm's cache after `npm ci`: no network needed.
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
    expect(existsSync(join(project, 'node_modules', 'hcs-sandbox', 'dist', 'cli', 'main.js'))).toBe(true);
    // What a user types after `npm install <git url>`: the flag, and the verb with its details.
    expect(run('npx', ['--no-install', 'hcs-sandbox', '--version'], project).trim()).toBe(pkg.version);
    const output = run('npx', ['--no-install', 'hcs-sandbox', 'version'], project);
    expect(output.split('\n')[0]).toMatch(new RegExp(`^hcs-sandbox ${pkg.version.replace(/\./g, '\\.')} `));
  }, 120_000);
});
