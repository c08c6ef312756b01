import type { ImageRecord } from '../../storage/index.js';
import { type CommandModule, type Io, printTable } from '../command.js';
import { printJson } from '../json.js';
import { progressReporter } from '../progress.js';
import { hostBuild, pullWithProgress } from '../pull.js';
import { sdk } from '../sdk.js';

export type ImagePlan =
  | { kind: 'image-ls'; json: boolean }
  | { kind: 'image-pull'; reference: string; allowOlderBuild: boolean; json: boolean }
  | { kind: 'image-load'; path: string; reference: string | undefined; json: boolean }
  | { kind: 'image-rm'; references: string[]; json: boolean };

export function printImages(io: Io, images: ImageRecord[]): void {
  printTable(io, [
    ['REFERENCE', 'BUILD', 'SIZE', 'SOURCE'],
    ...images.map((i) => [
      i.reference,
      i.osVersion ?? (i.build ? String(i.build) : ''),
      sdk().formatBytes(i.sizeBytes),
      i.source,
    ]),
  ]);
}

export const imageCommand: CommandModule<ImagePlan> = {
  verbs: ['image'],
  kinds: ['image-ls', 'image-pull', 'image-load', 'image-rm'],
  register(program, accept) {
    const image = program
      .command('image')
      .description('images: list what every source offers, pull, load, remove');
    image
      .command('ls')
      .alias('list')
      .description("list images from hcs-sandbox's store, Docker's and containerd's stores, and the host")
      .option('--json', 'machine-readable output', false)
      .action((opts: { json: boolean }) => accept({ kind: 'image-ls', json: opts.json }));
    image
      .command('pull')
      .description("pull an image from a registry into hcs-sandbox's store (no Docker needed)")
      .argument('<reference>', 'e.g. mcr.microsoft.com/windows/nanoserver:ltsc2022')
      .option(
        '--allow-older-build',
        'accept an image older than this host (runs with Hyper-V isolation only)',
        false,
      )
      .option('--json', 'print the imported image as JSON', false)
      .action((reference: string, opts: { allowOlderBuild: boolean; json: boolean }) =>
        accept({ kind: 'image-pull', reference, allowOlderBuild: opts.allowOlderBuild, json: opts.json }),
      );
    image
      .command('load')
      .description('load images from a `docker save` tar or an OCI layout')
      .argument('<path>', 'tar file (optionally gzipped) or OCI layout folder')
      .option('--reference <ref>', 'name the image when the archive does not')
      .option('--json', 'print the imported images as JSON', false)
      .action((path: string, opts: { reference?: string; json: boolean }) =>
        accept({ kind: 'image-load', path, reference: opts.reference, json: opts.json }),
      );
    image
      .command('rm')
      .alias('remove')
      .description("remove images from hcs-sandbox's own store (never Docker's or containerd's)")
      .argument('<reference...>', 'image references, as `image ls` shows them')
      .option('--json', 'machine-readable output', false)
      .action((references: string[], opts: { json: boolean }) =>
        accept({ kind: 'image-rm', references, json: opts.json }),
      );
  },
  async run(plan, io) {
    switch (plan.kind) {
      case 'image-ls': {
        const images = await sdk().storage.listImages();
        if (plan.json) printJson(io, images);
        else printImages(io, images);
        return 0;
      }
      case 'image-pull': {
        const image = await pullWithProgress(io, plan.reference, {
          silent: plan.json,
          allowOlderBuild: plan.allowOlderBuild,
        });
        if (plan.json) printJson(io, image);
        else io.out(`pulled ${image.reference} (${image.osVersion ?? 'unknown build'})\n`);
        return 0;
      }
      case 'image-load': {
        const progress = progressReporter(io, { json: plan.json, tty: Boolean(process.stderr.isTTY) });
        try {
          const images = await sdk().storage.loadImage(plan.path, {
            store: new (sdk().storage.OwnImageSource)(),
            importLayer: sdk().storage.importLayer,
            setupBaseLayer: sdk().storage.setupBaseLayer,
            destroyLayer: sdk().storage.destroyLayer,
            hostBuild: hostBuild(),
            ...(plan.reference !== undefined && { reference: plan.reference }),
            onProgress: progress.onProgress,
          });
          progress.stop();
          if (plan.json) printJson(io, images);
          else for (const image of images) io.out(`loaded ${image.reference}\n`);
        } finally {
          progress.stop();
        }
        return 0;
      }
      case 'image-rm': {
        const store = new (sdk().storage.OwnImageSource)();
        const results = [];
        for (const reference of plan.references) {
          const result = await store.removeImage(reference, { destroyLayer: sdk().storage.destroyLayer });
          results.push({ reference, ...result });
          if (!plan.json) io.out(`removed ${reference}\n`);
        }
        if (plan.json) printJson(io, results);
        return 0;
      }
    }
  },
};
