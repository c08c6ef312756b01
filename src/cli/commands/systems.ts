import { type CommandModule, collect, printTable } from '../command.js';
import { printJson } from '../json.js';
import { sdk } from '../sdk.js';

export type SystemsPlan = { kind: 'systems'; json: boolean; owners: string[]; ids: string[] };

export const systemsCommand: CommandModule<SystemsPlan> = {
  verbs: ['systems'],
  kinds: ['systems'],
  register(program, accept) {
    program
      .command('systems')
      .description("list every HCS compute system on the host, ours and others' (like hcsdiag list)")
      .option('--json', 'machine-readable output', false)
      .option('--owner <owner>', 'only systems with this Owner (repeatable)', collect, [])
      .option('--id <id>', 'only this id (repeatable)', collect, [])
      .action((opts: { json: boolean; owner: string[]; id: string[] }) =>
        accept({ kind: 'systems', json: opts.json, owners: opts.owner, ids: opts.id }),
      );
  },
  async run(plan, io) {
    const query: { Owners?: string[]; Ids?: string[] } = {};
    if (plan.owners.length) query.Owners = plan.owners;
    if (plan.ids.length) query.Ids = plan.ids;
    const list = await sdk().hcs.enumerateComputeSystems(query);
    if (plan.json) {
      printJson(io, list);
      return 0;
    }
    printTable(io, [
      ['ID', 'TYPE', 'STATE', 'OWNER'],
      ...list.map((s) => [s.Id, s.SystemType ?? '', s.State ?? '', s.Owner ?? '']),
    ]);
    return 0;
  },
};
