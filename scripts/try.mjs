#!/usr/bin/env node
// `npm run try`: builds hcs-sandbox and runs its CLI end to end.
// On Windows it talks to the real Host Compute Service. Anywhere else it runs
// the Windows build of the CLI under Wine against the simulated host from
// test-host/, and says so: nothing there is a real sandbox.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const cli = join(repo, 'dist', 'cli', 'main.js');
const say = (text) => process.stdout.write(`${text}\n`);

execFileSync('npx', ['tsc', '-p', join(repo, 'tsconfig.build.json')], {
  cwd: repo,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});

const steps = [
  ['version'],
  [
    'raw',
    'run',
    join(repo, 'examples', 'raw-container.json'),
    '--',
    'cmd',
    '/c',
    'echo',
    'hello from hcs-sandbox',
  ],
  ['systems'],
];

if (process.platform === 'win32') {
  say('== hcs-sandbox on this Windows host (real HCS)');
  for (const args of steps.filter((s) => s[0] !== 'raw')) {
    say(`\n$ hcs-sandbox ${args.join(' ')}`);
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  say(
    '\nA real sandbox needs a base image: image and sandbox commands arrive with the storage and sandbox issues.',
  );
  process.exit(0);
}

say('== This machine is not Windows.');
say('== Running the hcs-sandbox CLI end to end on the SIMULATED Windows host:');
say('==   the Windows build of Node under Wine, against a simulated computecore.dll (test-host/).');
say('==   Nothing below is a real sandbox; on Windows the same commands drive the real HCS.\n');
execFileSync('bash', [join(repo, 'test-host', 'prepare.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
const env = { ...process.env, HCSSIM_INSTANCE: `try-${process.pid}` };
for (const line of readFileSync(join(repo, '.cache', 'test-host', 'env'), 'utf8').split('\n')) {
  const eq = line.indexOf('=');
  if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
}
const dir = mkdtempSync(join(tmpdir(), 'hcs-try-'));
let failed = 0;
for (const [i, args] of steps.entries()) {
  say(`$ hcs-sandbox ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  // node.exe under Wine cannot write to a pipe (TEST-HOST.md): use files.
  const out = join(dir, `${i}.txt`);
  const r = spawnSync('bash', ['-c', 'wine "$0" "$@" > "$OUT" 2>&1', env.HCS_TEST_NODE_EXE, cli, ...args], {
    env: { ...env, OUT: out },
    stdio: 'inherit',
  });
  process.stdout.write(readFileSync(out, 'utf8').replace(/\r\n/g, '\n'));
  say(`(exit code ${r.status})\n`);
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
