#!/usr/bin/env node
// `npm run bench`: figures for docs/performance.md, measured under Wine against
// the simulated host. The baseline is measured in the same run: a bare koffi
// call into the same simulated DLL. Prints the figures and whether the targets
// from issue 3 hold; exits 0 either way (a benchmark is not a test).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
execFileSync('bash', [join(repo, 'test-host', 'prepare.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync('npx', ['tsc', '-p', join(repo, 'tsconfig.build.json')], { cwd: repo, stdio: 'inherit' });
execFileSync(process.execPath, [join(repo, 'scripts', 'bundle-cli.mjs')], { cwd: repo, stdio: 'inherit' });
const env = { ...process.env };
for (const line of readFileSync(join(repo, '.cache', 'test-host', 'env'), 'utf8').split('\n')) {
  const eq = line.indexOf('=');
  if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
}
const dir = mkdtempSync(join(tmpdir(), 'hcs-bench-'));

function inWine(script, args, extraEnv = {}) {
  const result = join(dir, 'result.json');
  const out = join(dir, 'out.txt');
  const r = spawnSync(
    'bash',
    [
      '-c',
      'wine "$0" "$@" > "$OUT" 2>&1',
      env.HCS_TEST_NODE_EXE,
      join(import.meta.dirname, 'wine', script),
      ...args,
    ],
    {
      env: {
        ...env,
        OUT: out,
        HCS_TEST_RESULT_FILE: result,
        HCSSIM_INSTANCE: `bench-${process.pid}-${script}-${args.join('-')}`,
        ...extraEnv,
      },
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) throw new Error(`${script} failed:\n${readFileSync(out, 'utf8')}`);
  return JSON.parse(readFileSync(result, 'utf8'));
}

const f = (ms) => `${(ms * 1000).toFixed(0).padStart(6)} us`;
const iterations = Number(process.env.BENCH_ITERATIONS ?? 2000);

console.log(`hcs-sandbox benchmark (simulated host under Wine, node ${process.version} driver)\n`);
const op = inWine('op-cost.mjs', [String(iterations)]);
const ratio = op.product.mean / op.bare.mean;
console.log(`Per-operation round trip (HcsGetComputeSystemProperties), ${op.iterations} each:`);
console.log(`  bare koffi call    mean ${f(op.bare.mean)}  p50 ${f(op.bare.p50)}  p99 ${f(op.bare.p99)}`);
console.log(
  `  hcs-sandbox        mean ${f(op.product.mean)}  p50 ${f(op.product.p50)}  p99 ${f(op.product.p99)}`,
);
console.log(
  `  added cost         ${f(op.product.mean - op.bare.mean)} per operation; ratio ${ratio.toFixed(2)}x (target <= 2x: ${ratio <= 2 ? 'met' : 'NOT met'})\n`,
);

const rounds = { 1: 60, 8: 10, 64: 3 };
const latency = { bare: {}, product: {} };
console.log('Lifecycle latency (create, start, terminate, close), UV_THREADPOOL_SIZE=1:');
for (const c of [1, 8, 64]) {
  for (const mode of ['bare', 'product']) {
    const l = inWine('lifecycle.mjs', [mode, String(c), String(rounds[c])], { UV_THREADPOOL_SIZE: '1' });
    latency[mode][c] = l;
    console.log(
      `  ${String(c).padStart(2)} concurrent  ${mode.padEnd(7)}  n=${String(l.n).padStart(4)}  p50 ${l.p50.toFixed(1).padStart(7)} ms  p99 ${l.p99.toFixed(1).padStart(7)} ms`,
    );
  }
}
const scaling = latency.product[64].p99 / latency.product[1].p99;
const hostScaling = latency.bare[64].p99 / latency.bare[1].p99;
const overhead64 = latency.product[64].p99 / latency.bare[64].p99;
console.log(
  `  p99 at 64 / p99 at 1: hcs-sandbox ${scaling.toFixed(2)}x, bare koffi ${hostScaling.toFixed(2)}x (target <= 1.5x: ${scaling <= 1.5 ? 'met' : 'NOT met'})`,
);
console.log(`  hcs-sandbox p99 / bare p99 at 64 concurrent: ${overhead64.toFixed(2)}x`);

// Exec output throughput (issue 16). BENCH_EXEC_MB (comma-separated sizes in MB,
// e.g. 1 for a quick run) and BENCH_EXEC_ROUNDS set its size.
{
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { execReport } = await import('./exec-report.mjs');
  const sizes = process.env.BENCH_EXEC_MB ?? '32,128';
  const execRounds = process.env.BENCH_EXEC_ROUNDS ?? '5';
  console.log(
    '\nExec output throughput (a node.exe writing to stdout in a sandbox; baseline: child_process.spawn of it here):',
  );
  const { lines, document } = execReport(inWine('exec-throughput.mjs', [sizes, execRounds]), {
    measuredAt: new Date().toISOString(),
    host: 'simulated host under Wine',
  });
  for (const line of lines) console.log(line);
  const results = join(repo, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'exec-throughput.json'), `${JSON.stringify(document, null, 2)}\n`);
  console.log(`  written to ${join('bench', 'results', 'exec-throughput.json')}`);
}

// Exec through a VM's guest agent (issue 15, AG5): the same program in a VM sandbox of
// the simulated host, whose VM runs the real agent.exe, reached through hvsock-relay.exe
// over a pipe. BENCH_AGENT_MB and BENCH_AGENT_ROUNDS set its size.
{
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { execReport } = await import('./exec-report.mjs');
  const sizes = process.env.BENCH_AGENT_MB ?? '32';
  const agentRounds = process.env.BENCH_AGENT_ROUNDS ?? '3';
  console.log("\nExec through a VM sandbox's guest agent (agent.exe + hvsock-relay.exe over a pipe):");
  const { lines, document } = execReport(
    inWine('exec-throughput.mjs', [sizes, agentRounds, 'vm']),
    { measuredAt: new Date().toISOString(), host: 'simulated host under Wine' },
    'agent-exec',
  );
  for (const line of lines) console.log(line);
  const results = join(repo, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'agent-exec.json'), `${JSON.stringify(document, null, 2)}\n`);
  console.log(`  written to ${join('bench', 'results', 'agent-exec.json')}`);
}

// Remote exec (issue 17): the same command through the API server over loopback vs local
// commands.run, in one node.exe. BENCH_REMOTE_ITERATIONS sets its length.
{
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { remoteReport } = await import('./remote-report.mjs');
  const home = mkdtempSync(join(tmpdir(), 'hcs-remote-'));
  const winPath = (p) => `Z:${p.replaceAll('/', '\\')}`;
  const n = process.env.BENCH_REMOTE_ITERATIONS ?? '100';
  console.log(
    `\nRemote exec round trip (cmd /c echo x, ${n} each; server and client on loopback in one node.exe):`,
  );
  const { lines, document } = remoteReport(
    inWine('remote-exec.mjs', [n], {
      // Wine 8 fails a connect that sets TCP keep-alive early, as fetch does (test/wine/wine-shims.mjs).
      NODE_OPTIONS: `--import=file:///Z:${join(repo, 'test', 'wine', 'wine-shims.mjs')}`,
      HCS_SANDBOX_HOME: winPath(home),
      HCSSIM_STORAGE_ROOT: winPath(join(home, 'sim-storage')),
    }),
    { measuredAt: new Date().toISOString(), host: 'simulated host under Wine' },
  );
  for (const line of lines) console.log(line);
  const results = join(repo, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'remote-exec.json'), `${JSON.stringify(document, null, 2)}\n`);
  console.log(`  written to ${join('bench', 'results', 'remote-exec.json')}`);
}

// Soak (issue 13): create -> exec -> rm cycles through the Sandbox API, with this
// process's OS handles, memory, store files and live systems sampled as it goes;
// flat means a slope near 0 per 100 cycles. BENCH_SOAK_CYCLES sets its length.
{
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const soakCycles = process.env.BENCH_SOAK_CYCLES ?? '1000';
  const home = mkdtempSync(join(tmpdir(), 'hcs-soak-'));
  const winPath = (p) => `Z:${p.replaceAll('/', '\\')}`;
  console.log(`\nSoak: ${soakCycles} create -> exec -> rm cycles (process isolation):`);
  const soak = inWine('../../test/wine/scripts/soak.mjs', [soakCycles, '50', '50'], {
    HCS_SANDBOX_HOME: winPath(home),
    HCSSIM_STORAGE_ROOT: winPath(join(home, 'sim-storage')),
  });
  if (soak.error) throw new Error(`soak failed: ${JSON.stringify(soak.error)}`);
  const s = soak.slopesPer100;
  console.log(
    `  ${soak.msPerCycle.toFixed(0)} ms per cycle; first -> last sample (cycle ${soak.first.cycle} -> ${soak.last.cycle}):`,
  );
  for (const [key, unit] of [
    ['handles', ''],
    ['rssMB', ' MB'],
    ['heapMB', ' MB'],
    ['files', ''],
    ['systems', ''],
  ])
    console.log(
      `  ${key.padEnd(8)} ${String(+soak.first[key].toFixed(1)).padStart(7)} -> ${String(+soak.last[key].toFixed(1)).padStart(7)}${unit}   slope ${s[key] >= 0 ? '+' : ''}${s[key].toFixed(2)}${unit} per 100 cycles`,
    );
  const leaks = soak.audit.Violations.length + soak.audit.Strings.Live + soak.audit.StdioHandles.Live;
  console.log(`  simulated host audit: ${leaks === 0 ? 'nothing leaked' : `${leaks} leaks`}`);
  const results = join(repo, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  const { samples: _samples, ...document } = soak;
  writeFileSync(
    join(results, 'soak.json'),
    `${JSON.stringify({ measuredAt: new Date().toISOString(), host: 'simulated host under Wine', ...document }, null, 2)}\n`,
  );
  console.log(`  written to ${join('bench', 'results', 'soak.json')}`);
}

// CLI cold start (issue 16): its own script, so it can run alone (--runs 2 in the Wine tier's check).
console.log('');
execFileSync(
  process.execPath,
  [join(import.meta.dirname, 'cold-start.mjs'), '--runs', process.env.BENCH_COLD_RUNS ?? '15'],
  {
    cwd: repo,
    stdio: 'inherit',
  },
);
