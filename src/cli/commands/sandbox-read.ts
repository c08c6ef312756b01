import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxInfo } from '../../index.js';
import { type CommandModule, type Io, printTable, UsageError } from '../command.js';
import { ago, eachName, logFiles } from '../format.js';
import { printJson } from '../json.js';
import { loadSandboxListing, sdk } from '../sdk.js';

export type SandboxReadPlan =
  | { kind: 'sandbox-ls'; all: boolean; json: boolean; quiet: boolean }
  | { kind: 'sandbox-inspect'; names: string[]; json: boolean }
  | { kind: 'sandbox-logs'; name: string; follow: boolean; json: boolean };

const ACTIVE = new Set(['running', 'paused', 'creating', 'removing']);

export function printInfo(io: Io, info: SandboxInfo): void {
  const rows: [string, string][] = [
    ['Name', info.name],
    ['ID', info.id],
    ['Status', info.status],
    ['Isolation', info.isolation],
    ['Image', info.image ?? ''],
    ['Persistent', info.persistent ? 'yes' : 'no'],
    ['Created', `${info.createdAt} (${ago(info.createdAt)})`],
    ['Memory', info.memoryMB === undefined ? 'default' : `${info.memoryMB} MB`],
    ['CPUs', info.cpus === undefined ? 'default' : String(info.cpus)],
    ['Writable layer', info.scratchBytes === undefined ? '' : sdk().formatBytes(info.scratchBytes)],
  ];
  const width = Math.max(...rows.map(([key]) => key.length)) + 1;
  for (const [key, value] of rows) io.out(`${`${key}:`.padEnd(width)} ${value}\n`.replace(/ +\n$/, '\n'));
  io.out(`${'Mapped folders:'.padEnd(width)}${info.mappedFolders.length === 0 ? ' none' : ''}\n`);
  for (const f of info.mappedFolders) {
    io.out(`  ${f.hostPath} -> ${f.sandboxPath}${f.readOnly ? ' (read-only)' : ''}\n`);
  }
}

async function infoOf(name: string): Promise<SandboxInfo> {
  const sandbox = await sdk().Sandbox.open(name);
  try {
    return await sandbox.info();
  } finally {
    await sandbox.close();
  }
}

function exitOf(name: string): { exitCode: number; finishedAt: string } | undefined {
  try {
    return JSON.parse(readFileSync(logFiles(name).exit, 'utf8')) as { exitCode: number; finishedAt: string };
  } catch {
    return undefined;
  }
}

/** Prints the log as it grows until the command has finished or the sandbox has stopped. */
async function follow(io: Io, name: string): Promise<void> {
  const { log } = logFiles(name);
  let offset = 0;
  let lastCheck = 0;
  const drain = async () => {
    if (!existsSync(log)) return;
    const file = await open(log, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        io.out(buffer.subarray(0, bytesRead).toString('utf8'));
      }
    } finally {
      await file.close();
    }
  };
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    while (!interrupted) {
      const finished = exitOf(name) !== undefined;
      await drain();
      if (finished) return;
      if (performance.now() - lastCheck > 1000) {
        lastCheck = performance.now();
        if (!ACTIVE.has((await infoOf(name)).status)) {
          await drain();
          return;
        }
      }
      await sleep(200);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `ls`'s output of `sandboxes` (local or a remote host's). */
export function printSandboxes(
  io: Io,
  sandboxes: SandboxInfo[],
  plan: { all: boolean; json: boolean; quiet: boolean },
): void {
  const list = sandboxes.filter((s) => plan.all || ACTIVE.has(s.status));
  if (plan.json) printJson(io, list);
  else if (plan.quiet) for (const s of list) io.out(`${s.name}\n`);
  else
    printTable(io, [
      ['NAME', 'STATUS', 'ISOLATION', 'IMAGE', 'CREATED'],
      ...list.map((s) => [s.name, s.status, s.isolation, s.image ?? '', ago(s.createdAt)]),
    ]);
}

export const sandboxReadCommand: CommandModule<SandboxReadPlan> = {
  verbs: ['ls', 'list', 'inspect', 'logs'],
  kinds: ['sandbox-ls', 'sandbox-inspect', 'sandbox-logs'],
  withoutSdk: ['sandbox-ls'],
  register(program, accept) {
    program
      .command('ls')
      .alias('list')
      .description('list sandboxes (running and paused; --all for every one)')
      .option('-a, --all', 'also created and stopped sandboxes', false)
      .option('-q, --quiet', 'only the names, one a line', false)
      .option('--json', 'machine-readable output (an array)', false)
      .action((opts: { all: boolean; json: boolean; quiet: boolean }) => {
        if (opts.quiet && opts.json) throw new UsageError('-q and --json: give one');
        accept({ kind: 'sandbox-ls', all: opts.all, json: opts.json, quiet: opts.quiet });
      });
    program
      .command('inspect')
      .description("a sandbox's details: id, status, isolation, image, options, folders, disk use")
      .argument('<sandbox...>', 'sandbox names')
      .option('--json', 'machine-readable output: always an array, one object per name', false)
      .action((names: string[], opts: { json: boolean }) =>
        accept({ kind: 'sandbox-inspect', names, json: opts.json }),
      );
    program
      .command('logs')
      .description('the output of the command that `run` (or `run -d`) started in a sandbox')
      .argument('<sandbox>', 'sandbox name')
      .option('-f, --follow', 'keep printing until the command has finished', false)
      .option('--json', 'print {name, log, exitCode, finishedAt} as JSON', false)
      .action((name: string, opts: { follow: boolean; json: boolean }) => {
        accept({ kind: 'sandbox-logs', name, follow: opts.follow && !opts.json, json: opts.json });
      });
  },
  async run(plan, io) {
    switch (plan.kind) {
      case 'sandbox-ls': {
        // The listing alone, not the SDK (execute.ts, withoutSdk): `Sandbox.list` is this function.
        printSandboxes(io, await (await loadSandboxListing()).listSandboxes(), plan);
        return 0;
      }
      case 'sandbox-inspect': {
        if (plan.json) {
          const infos = [];
          for (const name of plan.names) infos.push(await infoOf(name));
          printJson(io, infos);
          return 0;
        }
        let first = true;
        return eachName(io, plan.names, async (name) => {
          const info = await infoOf(name);
          if (!first) io.out('\n');
          first = false;
          printInfo(io, info);
        });
      }
      case 'sandbox-logs': {
        await infoOf(plan.name); // a clear "no sandbox named" rather than an empty log
        const { log } = logFiles(plan.name);
        if (plan.follow) {
          await follow(io, plan.name);
          return 0;
        }
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (plan.json) printJson(io, { name: plan.name, log: text, ...exitOf(plan.name) });
        else io.out(text);
        return 0;
      }
    }
  },
};
