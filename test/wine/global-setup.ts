import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');

/**
 * Prepares the simulated Windows host (idempotent, cached) and builds the
 * product, so every Wine test runs the real compiled code in node.exe.
 */
export default function setup(): () => void {
  execFileSync('bash', [join(repo, 'test-host', 'prepare.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const env = readFileSync(join(repo, '.cache', 'test-host', 'env'), 'utf8');
  for (const line of env.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) process.env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  // Type errors are the type check's business (npm test runs it first); tsc still emits.
  spawnSync('npx', ['tsc', '-p', join(repo, 'tsconfig.build.json')], { cwd: repo, stdio: 'ignore' });
  if (!existsSync(join(repo, 'dist', 'index.js'))) throw new Error('the build produced no dist/index.js');
  // The CLI as it ships: bundled (what `npm run build` does after tsc).
  execFileSync(process.execPath, [join(repo, 'scripts', 'bundle-cli.mjs')], { cwd: repo, stdio: 'inherit' });
  // One persistent wineserver for the whole run: each node.exe start is then ~0.5 s.
  try {
    execFileSync('wineserver', ['-p'], { stdio: 'ignore', env: process.env });
  } catch {
    // already running for this prefix: fine
  }
  return () => {
    try {
      execFileSync('wineserver', ['-k'], { stdio: 'ignore', env: process.env });
    } catch {
      // already gone
    }
  };
}
