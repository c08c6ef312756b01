#!/usr/bin/env node
// `npm run try`: builds hcs-sandbox and runs its CLI end to end: an image into
// the store, a sandbox that runs a command and is removed, the lists.
// On Windows it drives the real Host Compute Service (it pulls a Nano Server
// image matching this host). Anywhere else it runs the Windows build of the CLI
// under Wine against the simulated host from test-host/, and says so: nothing
// there is a real sandbox.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const cli = join(repo, 'dist', 'cli', 'main.js');
const say = (text) => process.stdout.write(`${text}\n`);
const show = (args) => args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');

execFileSync('npx', ['tsc', '-p', join(repo, 'tsconfig.build.json')], {
  cwd: repo,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
execFileSync(process.execPath, [join(repo, 'scripts', 'bundle-cli.mjs')], { cwd: repo, stdio: 'inherit' });

if (process.platform === 'win32') {
  const build = Number(release().split('.')[2]);
  const tag = build >= 26100 ? 'ltsc2025' : build >= 20348 ? 'ltsc2022' : 'ltsc2019';
  const image = `mcr.microsoft.com/windows/nanoserver:${tag}`;
  const steps = [
    ['doctor'],
    ['image', 'pull', '--allow-older-build', image],
    ['run', '--rm', image, '--', 'cmd', '/c', 'echo', 'hello', 'from', 'a', 'sandbox'],
    ['ls', '--all'],
  ];
  say(`== hcs-sandbox on this Windows host (real HCS, build ${build})`);
  for (const args of steps) {
    say(`\n$ hcs-sandbox ${show(args)}`);
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
    if (r.status !== 0 && args[0] !== 'doctor') process.exit(r.status ?? 1);
  }
  process.exit(0);
}

say('== This machine is not Windows.');
say('== Running the hcs-sandbox CLI end to end on the SIMULATED Windows host:');
say('==   the Windows build of Node under Wine, against simulated HCS DLLs (test-host/).');
say('==   Nothing below is a real sandbox; on Windows the same commands drive the real HCS.\n');
execFileSync('bash', [join(repo, 'test-host', 'prepare.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
const work = mkdtempSync(join(tmpdir(), 'hcs-try-'));
const env = {
  ...process.env,
  HCSSIM_INSTANCE: `try-${process.pid}`,
  HCS_SANDBOX_HOME: `Z:${join(work, 'home').replace(/\//g, '\\')}`,
  HCSSIM_STORAGE_ROOT: `Z:${join(work, 'sim-storage').replace(/\//g, '\\')}`,
  // Wine 8 fails a connect that sets keep-alive early; see docs/testing.md.
  NODE_OPTIONS: `--import=file:///Z:${join(repo, 'test', 'wine', 'wine-shims.mjs')}`,
};
for (const line of readFileSync(join(repo, '.cache', 'test-host', 'env'), 'utf8').split('\n')) {
  const eq = line.indexOf('=');
  if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
}
// A tiny image for the simulated host's build (Wine reports Windows 10 build 18362).
const layout = join(work, 'demo-image');
execFileSync(process.execPath, [join(repo, 'scripts', 'demo-image.mjs'), layout, '10.0.18362.1']);
const winLayout = `Z:${layout.replace(/\//g, '\\')}`;
const steps = [
  ['version'],
  ['image', 'load', '--reference', 'demo/hello:1', winLayout],
  ['image', 'ls'],
  ['run', '--rm', 'demo/hello:1', '--', 'cmd', '/c', 'echo', 'hello', 'from', 'a', 'sandbox'],
  ['run', '-d', '--name', 'box1', 'demo/hello:1', '--', 'ping', '-n', '5', '127.0.0.1'],
  ['exec', 'box1', '--', 'cmd', '/c', 'ver'],
  ['ls'],
  ['rm', '-f', 'box1'],
];
let failed = 0;
for (const [i, args] of steps.entries()) {
  say(`$ hcs-sandbox ${show(args)}`);
  // node.exe under Wine cannot write to a pipe (TEST-HOST.md): use files.
  const out = join(work, `${i}.txt`);
  const r = spawnSync('bash', ['-c', 'wine "$0" "$@" > "$OUT" 2>&1', env.HCS_TEST_NODE_EXE, cli, ...args], {
    env: { ...env, OUT: out },
    stdio: 'inherit',
  });
  process.stdout.write(readFileSync(out, 'utf8').replace(/\r\n/g, '\n'));
  say(`(exit code ${r.status})\n`);
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
