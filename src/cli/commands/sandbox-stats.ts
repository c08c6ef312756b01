import type { SandboxStats } from '../../index.js';
import { type CommandModule, type Io, parsePositiveInt, printTable } from '../command.js';
import { printJson, printJsonLine } from '../json.js';
import { sdk } from '../sdk.js';
import { parseCpuPercent, parseMemoryMB } from '../units.js';

export type StatsPlan =
  | { kind: 'stats'; names: string[]; stream: boolean; json: boolean; intervalMs: number }
  | { kind: 'top'; name: string; json: boolean }
  | {
      kind: 'update';
      name: string;
      memoryMB: number | undefined;
      cpus: number | undefined;
      cpuLimit: number | undefined;
    }
  | { kind: 'ip'; name: string; json: boolean };

function statsRows(rows: SandboxStats[]): string[][] {
  return [
    ['NAME', 'CPU %', 'MEM (WS)', 'COMMIT', 'READ', 'WRITE', 'PROCS'],
    ...rows.map((s) => [
      s.name,
      s.cpuPercent.toFixed(2),
      sdk().formatBytes(s.memory.workingSetBytes),
      sdk().formatBytes(s.memory.commitBytes),
      sdk().formatBytes(s.storage.readBytes),
      sdk().formatBytes(s.storage.writeBytes),
      String(s.processes),
    ]),
  ];
}

async function readOnce(iterators: AsyncGenerator<SandboxStats>[]): Promise<SandboxStats[]> {
  const out: SandboxStats[] = [];
  for (const it of iterators) {
    const next = await it.next();
    if (!next.done) out.push(next.value);
  }
  return out;
}

export const sandboxStatsCommand: CommandModule<StatsPlan> = {
  verbs: ['stats', 'top', 'update', 'ip'],
  kinds: ['stats', 'top', 'update', 'ip'],
  register(program, accept) {
    program
      .command('stats')
      .description('live CPU, memory, storage and process count of sandboxes (all running ones by default)')
      .argument('[names...]', 'sandbox names (default: every running one)')
      .option('--no-stream', 'print one reading and exit')
      .option('--json', 'NDJSON: one line per reading, each a JSON array of the sandboxes', false)
      .option('--interval <ms>', 'time between readings', parsePositiveInt, 1000)
      .action((names: string[], opts: { stream: boolean; json: boolean; interval: number }) =>
        accept({ kind: 'stats', names, stream: opts.stream, json: opts.json, intervalMs: opts.interval }),
      );
    program
      .command('top')
      .description('the processes inside a sandbox')
      .argument('<name>', 'sandbox name')
      .option('--json', 'machine-readable output', false)
      .action((name: string, opts: { json: boolean }) => accept({ kind: 'top', name, json: opts.json }));
    program
      .command('update')
      .description('change the limits of a running sandbox where HCS allows it')
      .argument('<name>', 'sandbox name')
      .option('--memory <size>', 'memory limit: 512m, 2g, or a whole number of MB', parseMemoryMB)
      .option('--cpus <N>', 'number of processors', parsePositiveInt)
      .option('--cpu-percent <PCT>', 'CPU cap, percent of the host (1-100)', parseCpuPercent)
      .option('--cpu-limit <PCT>', 'the same as --cpu-percent', parseCpuPercent)
      .action(
        (name: string, opts: { memory?: number; cpus?: number; cpuPercent?: number; cpuLimit?: number }) =>
          accept({
            kind: 'update',
            name,
            memoryMB: opts.memory,
            cpus: opts.cpus,
            cpuLimit: opts.cpuPercent ?? opts.cpuLimit,
          }),
      );
    program
      .command('ip')
      .description("a sandbox's IP address (as `wsb ip` prints it)")
      .argument('<name>', 'sandbox name')
      .option('--json', 'machine-readable output', false)
      .action((name: string, opts: { json: boolean }) => accept({ kind: 'ip', name, json: opts.json }));
  },
  async run(plan, io) {
    switch (plan.kind) {
      case 'stats':
        return runStats(plan, io);
      case 'top': {
        const sandbox = await sdk().Sandbox.open(plan.name);
        try {
          const processes = await sandbox.top();
          if (plan.json) printJson(io, processes);
          else
            printTable(io, [
              ['PID', 'IMAGE', 'CPU TIME', 'WORKING SET'],
              ...processes.map((p) => [
                String(p.ProcessId),
                p.ImageName ?? '',
                `${(((p.UserTime100ns ?? 0) + (p.KernelTime100ns ?? 0)) / 1e7).toFixed(2)}s`,
                sdk().formatBytes(p.MemoryWorkingSetPrivateBytes ?? 0),
              ]),
            ]);
          return 0;
        } finally {
          await sandbox.close();
        }
      }
      case 'update': {
        const sandbox = await sdk().Sandbox.open(plan.name);
        try {
          await sandbox.update({
            ...(plan.memoryMB !== undefined && { memoryMB: plan.memoryMB }),
            ...(plan.cpus !== undefined && { cpus: plan.cpus }),
            ...(plan.cpuLimit !== undefined && { cpuLimit: plan.cpuLimit }),
          });
          io.out(`updated ${plan.name}\n`);
          return 0;
        } finally {
          await sandbox.close();
        }
      }
      case 'ip': {
        const sandbox = await sdk().Sandbox.open(plan.name);
        try {
          const ip = await sandbox.ip();
          if (plan.json) printJson(io, { name: plan.name, ip: ip ?? null });
          else io.out(`${ip ?? '(no network)'}\n`);
          return ip ? 0 : 1;
        } finally {
          await sandbox.close();
        }
      }
    }
  },
};

async function runStats(plan: Extract<StatsPlan, { kind: 'stats' }>, io: Io): Promise<number> {
  const names = plan.names.length
    ? plan.names
    : (await sdk().Sandbox.list({ status: 'running' })).map((s) => s.name);
  const sandboxes = await Promise.all(names.map((name) => sdk().Sandbox.open(name)));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const iterators = sandboxes.map((s) =>
      s.stats({ intervalMs: plan.intervalMs, signal: controller.signal }),
    );
    const tty = Boolean(process.stdout.isTTY) && !plan.json;
    do {
      const readings = await readOnce(iterators);
      if (plan.json) printJsonLine(io, readings);
      else {
        if (tty && plan.stream) io.out('\x1b[H\x1b[2J');
        printTable(io, statsRows(readings));
      }
    } while (plan.stream && !controller.signal.aborted);
    await Promise.all(iterators.map((it) => it.return(undefined)));
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all(sandboxes.map((s) => s.close()));
  }
}
