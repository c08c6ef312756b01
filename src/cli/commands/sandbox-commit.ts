import type { CommandModule } from '../command.js';
import { printJson } from '../json.js';
import { sdk } from '../sdk.js';

export type CommitPlan = { kind: 'commit'; name: string; reference: string; json: boolean };

export const sandboxCommitCommand: CommandModule<CommitPlan> = {
  verbs: ['commit'],
  kinds: ['commit'],
  register(program, accept) {
    program
      .command('commit')
      .description(
        "make a new image from a stopped sandbox's changes (its writable layer on top of its image)",
      )
      .argument('<sandbox>', 'a stopped sandbox')
      .argument('<reference>', 'the new image, e.g. local/prepared:1')
      .option('--json', 'print the new image as JSON', false)
      .action((name: string, reference: string, opts: { json: boolean }) =>
        accept({ kind: 'commit', name, reference, json: opts.json }),
      );
  },
  async run(plan, io) {
    const sandbox = await sdk().Sandbox.open(plan.name);
    try {
      const image = await sandbox.commit(plan.reference);
      if (plan.json) printJson(io, image);
      else io.out(`${image.reference} (${image.layers.length} layers)\n`);
      return 0;
    } finally {
      await sandbox.close();
    }
  },
};
