#!/usr/bin/env node
// CLI cold start (issue 16): how long `hcs-sandbox --help`, `--version` and
// `ls` (against an empty store) take from process start to exit, against
// `node -e 0` measured in the same run on the same machine, under Linux node
// and under node.exe in Wine. Median of N runs each, runs interleaved so a
// load change on the machine hits every case alike. Writes
// bench/results/cold-start.json (or --out); prints a table. Target: each
// ratio <= 1.5x. A benchmark, not a test: exits 0 whether or not it is met.
//
//   node bench/cold-start.mjs [--runs N] [--out FILE] [--no-wine]
//
// Wine needs the simulated host (test-host/prepare.sh) and dist/ built;
// `npm run bench` does both first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const repo = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    out: { type: 'string', default: join(repo, 'bench', 'results', 'cold-start.json') },
    'no-wine': { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(values.runs));
const TARGET = 1.5;
const cli = join(repo, 'dist', 'cli', 'main.js');
if (!existsSync(cli)) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
const home = mkdtempSync(join(tmpdir(), 'hcs-cold-'));

const CASES = [
  ['node -e 0', ['-e', '0']],
  ['--help', [cli, '--help']],
  ['--version', [cli, '--version']],
  ['ls', [cli, 'ls']],
];

/** The simulated host's environment (HCS_TEST_NODE_EXE, WINEPREFIX, ...), if prepared. */
function wineEnv() {
  const file = join(repo, '.cache', 'test-host', 'env');
  if (!existsSync(file)) return undefined;
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env.HCS_TEST_NODE_EXE ? env : undefined;
}

/** Milliseconds from spawn to exit; output goes to a file (node.exe under Wine dies writing to a pipe). */
function timeOnce(command, args, env, outFile) {
  const start = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', '"$0" "$@" > "$OUT" 2>&1', command, ...args], {
    env: { ...env, OUT: outFile },
    stdio: 'ignore',
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, status: r.status };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function measure(label, command, prefixArgs, env) {
  const outFile = join(home, 'out.txt');
  const times = Object.fromEntries(CASES.map(([name]) => [name, []]));
  const exitCodes = {};
  // One warm-up round (disk cache, wineserver), not counted.
  for (const [, args] of CASES) timeOnce(command, [...prefixArgs, ...args], env, outFile);
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of CASES) {
      const { ms, status } = timeOnce(command, [...prefixArgs, ...args], env, outFile);
      times[name].push(ms);
      exitCodes[name] = status;
    }
  }
  const baseline = median(times['node -e 0']);
  const cases = CASES.slice(1).map(([name]) => {
    const ms = median(times[name]);
    const ratio = ms / baseline;
    return {
      command: name,
      medianMs: round(ms),
      ratio: round(ratio),
      met: ratio <= TARGET,
      exitCode: exitCodes[name],
    };
  });
  return { runtime: label, runs, baseline: { command: 'node -e 0', medianMs: round(baseline) }, cases };
}

const round = (x) => Math.round(x * 100) / 100;

const results = [];
const linuxEnv = { ...process.env, HCS_SANDBOX_HOME: home };
results.push(measure(`linux node ${process.version}`, process.execPath, [], linuxEnv));

const wine = values['no-wine'] ? undefined : wineEnv();
if (wine) {
  const env = {
    ...process.env,
    ...wine,
    HCSSIM_INSTANCE: `cold-${process.pid}`,
    // Drive Z: is the Linux root under Wine.
    HCS_SANDBOX_HOME: `Z:${home.replace(/\//g, '\\')}`,
  };
  results.push(measure('node.exe under Wine', 'wine', [wine.HCS_TEST_NODE_EXE], env));
} else if (!values['no-wine']) {
  console.log('(Wine skipped: the simulated host is not prepared; run test-host/prepare.sh)');
}
rmSync(home, { recursive: true, force: true });

const report = { target: TARGET, measuredAt: new Date().toISOString(), results };
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);

console.log(`CLI cold start, median of ${runs} runs (ls against an empty store):`);
for (const r of results) {
  console.log(`  ${r.runtime}: node -e 0 ${r.baseline.medianMs.toFixed(0)} ms`);
  for (const c of r.cases) {
    console.log(
      `    ${c.command.padEnd(10)} ${c.medianMs.toFixed(0).padStart(6)} ms  ${c.ratio.toFixed(2)}x (target <= ${TARGET}x: ${c.met ? 'met' : 'NOT met'})`,
    );
  }
}
