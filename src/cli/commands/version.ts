import type { CommandModule } from '../command.js';
import { printJson } from '../json.js';
import { packageVersion } from '../package-version.js';
import { sdk } from '../sdk.js';

export type VersionPlan = { kind: 'version'; json: boolean };

export const versionCommand: CommandModule<VersionPlan> = {
  verbs: ['version'],
  kinds: ['version'],
  register(program, accept) {
    program
      .command('version')
      .description('print versions and what this host supports')
      .option('--json', 'machine-readable output', false)
      .action((opts: { json: boolean }) => accept({ kind: 'version', json: opts.json }));
  },
  async run(plan, io) {
    let hcs: { available: boolean; schemaVersions?: string[]; reason?: string };
    try {
      const props = await sdk().hcs.serviceProperties();
      hcs = {
        available: true,
        schemaVersions: props.supportedSchemaVersions.map((v) => `${v.Major}.${v.Minor}`),
      };
    } catch (error) {
      if (!(error instanceof sdk().HcsUnavailableError)) throw error;
      hcs = { available: false, reason: error.message };
    }
    const info = {
      version: packageVersion(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      hcs,
    };
    if (plan.json) {
      printJson(io, info);
      return 0;
    }
    io.out(`hcs-sandbox ${info.version} (node ${info.node}, ${info.platform})\n`);
    io.out(
      hcs.available
        ? `HCS: available, schema versions ${hcs.schemaVersions?.join(', ')}\n`
        : `HCS: not available: ${hcs.reason}\n`,
    );
    return 0;
  },
};
