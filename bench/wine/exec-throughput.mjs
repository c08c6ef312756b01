// Exec output throughput: a command in a sandbox writes N MB to stdout; we time it
// through `commands.run` (string and `encoding: 'buffer'`) and through
// `commands.spawn` consuming the handle's stdout Readable. The sandbox is a
// process-isolated compute system on the simulated host (`container`, which runs
// the command as a real Wine process), or a VM sandbox (`vm`, issue 15's AG5: the
// command goes through the guest agent and hvsock-relay.exe, the simulated VM
// running the real agent.exe).
//
// Each mode is held to the child_process call that does the same work, from this
// same node.exe on the same program: `run` to `execFile` (which also collects and
// decodes the output), `run` with `encoding: 'buffer'` to `execFile` with
// `encoding: 'buffer'`, streaming to `spawn` with its stdout consumed and dropped.
// For containers a further figure, the HCS pipe alone (HcsProcess from the hcs
// layer, its stdout counted and dropped), is the ceiling the simulated host's
// pipes allow. argv: sizes in MB (comma-separated), rounds per size, target
// (`container`, default, or `vm`). Each figure is the best round (others share the
// machine, and their load only ever adds time), with the median too, and this
// process's own CPU time for the round.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { containerDocument, done, product } from '../../test/wine/scripts/lib.mjs';
import { childProcessCollect, childProcessRun, counter, writerCommand } from './writer.mjs';

const { runCommand, spawnCommand } = await import('../../dist/sandbox/commands.js');
const { buildProcessParameters, HcsProcess, quoteWindowsArgs } = product;
const sizes = (process.argv[2] ?? '32,128').split(',').map(Number);
const rounds = Number(process.argv[3] ?? 3);
const target = process.argv[4] ?? 'container';
const commandLine = writerCommand;

/** The same work through child_process: the baselines. */
const baselines = {
  baseline: (_host, bytes) => childProcessRun(bytes),
  execFile: (_host, bytes) => childProcessCollect(bytes, 'utf8'),
  execFileBuffer: (_host, bytes) => childProcessCollect(bytes, 'buffer'),
};

/** Through the command layer: `run`/`spawn` of a host (a compute system or a Sandbox's commands). */
function commandModes(run, spawnStream) {
  return {
    async run(host, bytes) {
      return (await run(host, commandLine(bytes), {})).stdout.length;
    },
    async runBuffer(host, bytes) {
      return (await run(host, commandLine(bytes), { encoding: 'buffer' })).stdout.length;
    },
    async stream(host, bytes) {
      const handle = await spawnStream(host, commandLine(bytes));
      const count = counter();
      await pipeline(handle.stdout, count.sink);
      await handle.wait();
      return count.bytes();
    },
  };
}

const hcsPipe = {
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
};

/** The sandbox the modes run in, and how to dispose of it. */
async function openTarget() {
  if (target === 'vm') {
    const { seedVmImage } = await import('../../test/wine/scripts/vm-lib.mjs');
    const home = mkdtempSync(join(tmpdir(), 'hcs-bench-vm-'));
    await seedVmImage(home, 'win');
    const sandbox = await product.Sandbox.create({ image: 'win', isolation: 'vm', home, network: 'none' });
    const modes = {
      ...baselines,
      ...commandModes(
        (sb, command, options) => sb.commands.run(command, options),
        (sb, command) => sb.commands.spawn(command),
      ),
    };
    const dispose = async () => {
      await sandbox.remove();
      rmSync(home, { recursive: true, force: true });
    };
    return { host: sandbox, modes, dispose };
  }
  const system = await product.ComputeSystem.create(`bench-exec-${process.pid}`, containerDocument());
  await system.start();
  const modes = { ...baselines, ...hcsPipe, ...commandModes(runCommand, spawnCommand) };
  return { host: system, modes, dispose: () => system[Symbol.asyncDispose]() };
}

/** 0xC0000142 STATUS_DLL_INIT_FAILED: Wine now and then fails a new process's start. */
const DLL_INIT_FAILED = 0xc0000142;
let retries = 0;

/** One timed round; a round whose program failed to start under Wine is run again. */
async function timed(mode, host, bytes) {
  for (;;) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    try {
      const got = await mode(host, bytes);
      if (got !== bytes) throw new Error(`received ${got} bytes of ${bytes}`);
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

const { host, modes, dispose } = await openTarget();
const results = [];
try {
  for (const mb of sizes) {
    const bytes = Math.round(mb * 1024 * 1024);
    const times = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
    // One warm-up of each mode, then interleaved rounds so drift hits all alike.
    for (let round = -1; round < rounds; round++) {
      for (const [name, mode] of Object.entries(modes)) {
        const sample = await timed(mode, host, bytes);
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
    results.push(row);
  }
} finally {
  await dispose();
}
done({ node: process.version, retries, target, sizes: results });
