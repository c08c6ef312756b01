// Exec output throughput: a command in a sandbox (a process-isolated compute
// system on the simulated host, which runs it as a real Wine process) writes
// N MB to stdout; we time it through `commands.run` (string and
// `encoding: 'buffer'`) and through `commands.spawn` consuming the handle's
// stdout Readable. The baseline is `child_process.spawn` of the same program
// from this same node.exe, consuming its stdout. A fourth figure, the HCS
// pipe alone (HcsProcess from the hcs layer, its stdout counted and dropped),
// is the ceiling the simulated host's pipes allow, so what the command layer
// itself adds can be told from what the host costs. argv: sizes in MB
// (comma-separated), rounds per size. Each figure is the best round (others
// share the machine, and their load only ever adds time), with the median too,
// and this process's own CPU time for the round (best of N: what reading costs
// here, which others' load moves far less than the wall clock).
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { containerDocument, done, product } from '../../test/wine/scripts/lib.mjs';

const { runCommand, spawnCommand } = await import('../../dist/sandbox/commands.js');
const { buildProcessParameters, HcsProcess, quoteWindowsArgs } = product;
const sizes = (process.argv[2] ?? '32,128').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 3);

// The program: this same node.exe writing `bytes` of 'x' in 64 KiB writes,
// honouring backpressure. Single quotes only: it sits in a Windows command line.
const WRITER =
  'const n=Number(process.argv[1]);const b=Buffer.alloc(65536,120);let left=n;' +
  'function w(){while(left>0){const k=Math.min(left,b.length);left-=k;' +
  "if(!process.stdout.write(k===b.length?b:b.subarray(0,k))){process.stdout.once('drain',w);return}}}w()";
const argv = (bytes) => ['-e', WRITER, String(bytes)];
const commandLine = (bytes) => [process.execPath, ...argv(bytes)];

/** Bytes arriving on a Readable, counted and dropped. */
function counter() {
  let bytes = 0;
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return { sink, bytes: () => bytes };
}

const modes = {
  async baseline(_system, bytes) {
    const child = spawn(process.execPath, argv(bytes), { stdio: ['ignore', 'pipe', 'pipe'] });
    const count = counter();
    child.stderr.resume();
    const exited = new Promise((resolve, reject) => {
      child.on('close', (code) =>
        code === 0
          ? resolve()
          : reject(Object.assign(new Error(`exit code ${code}`), { exitCode: code >>> 0 })),
      );
      child.on('error', reject);
    });
    await pipeline(child.stdout, count.sink);
    await exited;
    return count.bytes();
  },
  async hcsPipe(system, bytes) {
    const parameters = buildProcessParameters({
      commandLine: quoteWindowsArgs(commandLine(bytes)),
      createStdInPipe: false,
      createStdOutPipe: true,
      createStdErrPipe: true,
    });
    const child = await HcsProcess.create(system, parameters);
    try {
      const count = counter();
      child.stderr.resume();
      await pipeline(child.stdout, count.sink);
      const exit = await child.wait();
      if (exit.exitCode !== 0) throw Object.assign(new Error('hcsPipe failed'), { exitCode: exit.exitCode });
      return count.bytes();
    } finally {
      await child.close();
    }
  },
  async run(system, bytes) {
    const result = await runCommand(system, commandLine(bytes));
    return result.stdout.length;
  },
  async runBuffer(system, bytes) {
    const result = await runCommand(system, commandLine(bytes), { encoding: 'buffer' });
    return result.stdout.length;
  },
  async stream(system, bytes) {
    const handle = await spawnCommand(system, commandLine(bytes));
    const count = counter();
    await pipeline(handle.stdout, count.sink);
    await handle.wait();
    return count.bytes();
  },
};

/** 0xC0000142 STATUS_DLL_INIT_FAILED: Wine now and then fails a new process's start. */
const DLL_INIT_FAILED = 0xc0000142;
let retries = 0;

/** One timed round; a round whose program failed to start under Wine is run again. */
async function timed(name, system, bytes) {
  for (;;) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    try {
      const got = await modes[name](system, bytes);
      if (got !== bytes) throw new Error(`${name} received ${got} bytes of ${bytes}`);
      const cpu = process.cpuUsage(cpu0);
      return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
    } catch (error) {
      if (error?.exitCode !== DLL_INIT_FAILED || ++retries > 5) throw error;
    }
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const system = await product.ComputeSystem.create(`bench-exec-${process.pid}`, containerDocument());
const results = [];
try {
  await system.start();
  for (const mb of sizes) {
    const bytes = Math.round(mb * 1024 * 1024);
    const times = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
    // One warm-up of each mode, then interleaved rounds so drift hits all alike.
    for (let round = -1; round < rounds; round++) {
      for (const name of Object.keys(modes)) {
        const sample = await timed(name, system, bytes);
        if (round >= 0) times[name].push(sample);
      }
    }
    const row = { mb, bytes, rounds };
    for (const [name, samples] of Object.entries(times)) {
      const ms = Math.min(...samples.map((sample) => sample.ms));
      const cpuMs = Math.min(...samples.map((sample) => sample.cpuMs));
      const medianMs = median(samples.map((sample) => sample.ms));
      row[name] = { ms, medianMs, mbPerS: bytes / 1024 / 1024 / (ms / 1000), cpuMs };
    }
    for (const name of ['hcsPipe', 'run', 'runBuffer', 'stream'])
      row[name].ratio = row.baseline.ms / row[name].ms;
    results.push(row);
  }
} finally {
  await system[Symbol.asyncDispose]();
}
done({ node: process.version, retries, sizes: results });
