import { basename } from 'node:path';
import type { Progress, VmImageRecord } from '../../storage/index.js';
import { type CommandModule, collect, type Io, parsePositiveInt, printTable } from '../command.js';
import { printJson } from '../json.js';
import { progressReporter } from '../progress.js';
import { sdk } from '../sdk.js';

export type VmImagePlan =
  | {
      kind: 'vm-image-build';
      name: string;
      iso: string | undefined;
      wim: string | undefined;
      index: number | undefined;
      edition: string | undefined;
      sizeGB: number | undefined;
      user: string | undefined;
      computerName: string | undefined;
      stage: string[];
      agent: boolean;
      json: boolean;
    }
  | { kind: 'vm-image-agent'; name: string; stage: string[]; json: boolean }
  | { kind: 'vm-image-ls'; json: boolean }
  | { kind: 'vm-image-rm'; names: string[]; json: boolean };

const BUILD_EXAMPLES = `
Examples:
  hcs-sandbox vm image build --iso D:\\iso\\Win11_24H2.iso --edition Professional
  hcs-sandbox vm image build --wim install.wim --index 6 --name win11 --size 64
  hcs-sandbox vm image build --wim install.wim --index 6 --stage .\\agent\\agent.exe
  hcs-sandbox vm image build --agent-only win11

The guest agent this package ships (dist\\agent) is staged unless --no-agent: it
gives the image's sandboxes commands and files. --agent-only stages it again into a
ready image no sandbox uses (sandboxes made afterwards get it).

Needs an elevated shell, Hyper-V and the free space of --size (the VHDX is fixed-size).
An interrupted build resumes when the same command runs again. The image's login is
in <store>\\vm-images\\<name>\\credentials.json (administrators only): docs/vm.md.
`;

function printVmImages(io: Io, images: VmImageRecord[]): void {
  printTable(io, [
    ['NAME', 'STATUS', 'BUILD', 'EDITION', 'SIZE', 'AGENT', 'CREATED'],
    ...images.map((i) => [
      i.name,
      i.status,
      i.build === undefined ? '' : String(i.build),
      i.edition ?? '',
      i.status === 'ready' ? sdk().formatBytes(i.sizeBytes) : '',
      i.agent ? i.agent.stagedBy : i.status === 'ready' ? 'none' : '',
      i.createdAt.slice(0, 19).replace('T', ' '),
    ]),
  ]);
}

/** The image's name when --name is not given: the media's file name, lowercased to a valid name. */
function defaultName(media: string, index: number | undefined, edition: string | undefined): string {
  const stem = basename(media).replace(/\.[^.]*$/, '');
  const suffix = edition ?? (index === undefined ? '' : String(index));
  const name = `${stem}${suffix ? `-${suffix}` : ''}`
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return name || 'windows';
}

/** `--stage` files, each to its own name in the image's agent folder. */
function stagedFiles(files: string[]): { from: string; to: string }[] {
  return files.map((from) => ({ from, to: basename(from) }));
}

/** Runs a build's steps with their progress on stderr (bars on a terminal), stopped however it ends. */
async function withBuildProgress<T>(
  io: Io,
  run: (onProgress: (p: Progress) => void) => Promise<T>,
): Promise<T> {
  const progress = progressReporter(io, { json: false, tty: Boolean(process.stderr.isTTY) });
  try {
    return await run(progress.onProgress);
  } finally {
    progress.stop();
  }
}

export const vmImageCommand: CommandModule<VmImagePlan> = {
  verbs: ['vm'],
  kinds: ['vm-image-build', 'vm-image-agent', 'vm-image-ls', 'vm-image-rm'],
  register(program, accept) {
    const vm = program.command('vm').description('VM sandboxes: full Windows desktops (docs/vm.md)');
    const image = vm
      .command('image')
      .description('VM images: bootable Windows disks built from Windows media');
    image
      .command('build')
      .description('build a bootable base VHDX from a Windows ISO or WIM/ESD (resumable)')
      .option('--iso <file>', 'a Windows ISO (its sources\\install.wim or install.esd is applied)')
      .option('--wim <file>', 'a WIM or ESD file')
      .option('--index <n>', 'the image index inside the WIM', parsePositiveInt)
      .option('--edition <name>', 'pick the image by edition id or display name (e.g. Professional)')
      .option('--name <image>', 'the VM image name (default: from the media file name)')
      .option('--size <GB>', 'the fixed VHDX size in GB (default 40)', parsePositiveInt)
      .option('--user <name>', 'the local administrator the VM logs on as (default sandbox)')
      .option('--computer-name <name>', 'the VM computer name (default: random per sandbox)')
      .option('--stage <file>', 'stage a file in the agent folder (repeatable)', collect, [])
      .option(
        '--no-agent',
        'build without the guest agent (its sandboxes get a screen, no commands or files)',
      )
      .option('--agent-only <image>', 'stage the guest agent into this ready image again, nothing else')
      .option('--json', 'print the finished image as JSON (progress stays on stderr)', false)
      .addHelpText('after', BUILD_EXAMPLES)
      .action(
        (opts: {
          iso?: string;
          wim?: string;
          index?: number;
          edition?: string;
          name?: string;
          size?: number;
          user?: string;
          computerName?: string;
          stage: string[];
          agent: boolean;
          agentOnly?: string;
          json: boolean;
        }) =>
          opts.agentOnly !== undefined
            ? accept({ kind: 'vm-image-agent', name: opts.agentOnly, stage: opts.stage, json: opts.json })
            : accept({
                kind: 'vm-image-build',
                name: opts.name ?? defaultName(opts.iso ?? opts.wim ?? 'windows', opts.index, opts.edition),
                iso: opts.iso,
                wim: opts.wim,
                index: opts.index,
                edition: opts.edition,
                sizeGB: opts.size,
                user: opts.user,
                computerName: opts.computerName,
                stage: opts.stage,
                agent: opts.agent,
                json: opts.json,
              }),
      );
    image
      .command('ls')
      .alias('list')
      .description('list VM images, ready and interrupted builds')
      .option('--json', 'machine-readable output', false)
      .action((opts: { json: boolean }) => accept({ kind: 'vm-image-ls', json: opts.json }));
    image
      .command('rm')
      .alias('remove')
      .description('remove VM images (refused while a sandbox uses one)')
      .argument('<name...>', 'VM image names, as `vm image ls` shows them')
      .option('--json', 'machine-readable output', false)
      .addHelpText('after', '\nExample:\n  hcs-sandbox vm image rm win11\n')
      .action((names: string[], opts: { json: boolean }) =>
        accept({ kind: 'vm-image-rm', names, json: opts.json }),
      );
  },
  async run(plan, io) {
    const lib = sdk();
    switch (plan.kind) {
      case 'vm-image-build': {
        const image = await withBuildProgress(io, (onProgress) =>
          lib.storage.buildVmImage({
            name: plan.name,
            ...(plan.iso !== undefined && { iso: plan.iso }),
            ...(plan.wim !== undefined && { wim: plan.wim }),
            ...(plan.index !== undefined && { index: plan.index }),
            ...(plan.edition !== undefined && { edition: plan.edition }),
            ...(plan.sizeGB !== undefined && { sizeGB: plan.sizeGB }),
            ...(plan.user !== undefined && { userName: plan.user }),
            ...(plan.computerName !== undefined && { computerName: plan.computerName }),
            stage: stagedFiles(plan.stage),
            agent: plan.agent,
            onProgress,
          }),
        );
        if (plan.json) printJson(io, image);
        else
          io.out(
            `built ${image.name} (${image.displayName ?? 'Windows'}, build ${image.build ?? '?'}, ` +
              `${lib.formatBytes(image.sizeBytes)})\nlogin: ${lib.storage.credentialsPathOf(new lib.storage.VmImageStore(), image.name)}\n`,
          );
        return 0;
      }
      case 'vm-image-agent': {
        const image = await withBuildProgress(io, (onProgress) =>
          lib.refreshVmImageAgent(plan.name, { stage: stagedFiles(plan.stage), onProgress }),
        );
        if (plan.json) printJson(io, image);
        else io.out(`staged the guest agent into ${image.name} (from ${image.agent?.from ?? '?'})\n`);
        return 0;
      }
      case 'vm-image-ls': {
        const listing = await new lib.storage.VmImageStore().list();
        for (const warning of listing.warnings) io.err(`warning: ${warning.name}: ${warning.message}\n`);
        if (plan.json) printJson(io, listing.images);
        else printVmImages(io, listing.images);
        return 0;
      }
      case 'vm-image-rm': {
        const removed = [];
        for (const name of plan.names) {
          removed.push(await lib.removeVmImage(name));
          if (!plan.json) io.out(`removed ${name}\n`);
        }
        if (plan.json) printJson(io, removed);
        return 0;
      }
    }
  },
};
