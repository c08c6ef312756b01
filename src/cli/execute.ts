import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  ComputeSystem,
  enumerateComputeSystems,
  HcsProcess,
  HcsUnavailableError,
  serviceProperties,
} from '../index.js';
import type { Plan } from './plan.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Runs a plan through the public SDK; returns the process exit code. */
export async function execute(plan: Plan, io: Io): Promise<number> {
  switch (plan.kind) {
    case 'help':
      io.out(plan.text);
      return 0;
    case 'version':
      return version(plan.json, io);
    case 'systems':
      return systems(plan, io);
    case 'raw-run':
      return rawRun(plan, io);
  }
}

async function version(json: boolean, io: Io): Promise<number> {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  let hcs: { available: boolean; schemaVersions?: string[]; reason?: string };
  try {
    const props = await serviceProperties();
    hcs = {
      available: true,
      schemaVersions: props.supportedSchemaVersions.map((v) => `${v.Major}.${v.Minor}`),
    };
  } catch (error) {
    if (!(error instanceof HcsUnavailableError)) throw error;
    hcs = { available: false, reason: error.message };
  }
  const info = {
    version: pkg.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    hcs,
  };
  if (json) io.out(`${JSON.stringify(info, null, 2)}\n`);
  else {
    io.out(`hcs-sandbox ${info.version} (node ${info.node}, ${info.platform})\n`);
    io.out(
      hcs.available
        ? `HCS: available, schema versions ${hcs.schemaVersions?.join(', ')}\n`
        : `HCS: not available: ${hcs.reason}\n`,
    );
  }
  return 0;
}

async function systems(plan: Extract<Plan, { kind: 'systems' }>, io: Io): Promise<number> {
  const query: { Owners?: string[]; Ids?: string[] } = {};
  if (plan.owners.length) query.Owners = plan.owners;
  if (plan.ids.length) query.Ids = plan.ids;
  const list = await enumerateComputeSystems(query);
  if (plan.json) {
    io.out(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  const rows = [
    ['ID', 'TYPE', 'STATE', 'OWNER'],
    ...list.map((s) => [s.Id, s.SystemType ?? '', s.State ?? '', s.Owner ?? '']),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  for (const row of rows)
    io.out(
      `${row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}

async function rawRun(plan: Extract<Plan, { kind: 'raw-run' }>, io: Io): Promise<number> {
  const document = JSON.parse(await readFile(plan.documentPath, 'utf8')) as object;
  const id = plan.id ?? `hcs-sandbox-raw-${randomUUID()}`;
  const callOptions = plan.timeoutMs ? { timeoutMs: plan.timeoutMs } : {};
  const system = await ComputeSystem.create(id, document, callOptions);
  try {
    await system.start(callOptions);
    const proc = await HcsProcess.create(
      system,
      { CommandLine: plan.command.join(' '), CreateStdOutPipe: true, CreateStdErrPipe: true },
      callOptions,
    );
    const pump = async (stream: NodeJS.ReadableStream | null, write: (s: string) => void) => {
      if (stream) for await (const chunk of stream) write(chunk.toString());
    };
    const [, , exit] = await Promise.all([
      pump(proc.stdout, (s) => io.out(s)),
      pump(proc.stderr, (s) => io.err(s)),
      proc.wait(callOptions),
    ]);
    await proc.close();
    return exit.exitCode;
  } finally {
    await system[Symbol.asyncDispose]();
  }
}
