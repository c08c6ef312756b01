import { type CommandModule, printTable, UsageError } from '../command.js';
import { sdk } from '../sdk.js';

export type MaintenancePlan =
  | { kind: 'doctor'; json: boolean; probe?: true; output?: string }
  | { kind: 'gc'; dryRun: boolean; json: boolean };

export const maintenanceCommand: CommandModule<MaintenancePlan> = {
  verbs: ['doctor', 'gc'],
  kinds: ['doctor', 'gc'],
  register(program, accept) {
    program
      .command('doctor')
      .description(
        'check this host: Windows build, features, privileges, images, state folder; say what to fix',
      )
      .option('--json', 'machine-readable output', false)
      .option(
        '--probe',
        'run the probe instead: exercise what only real Windows can confirm, write a JSON report to attach to an issue (docs/probe.md)',
        false,
      )
      .option(
        '--output <file>',
        'where --probe writes its report (default hcs-sandbox-probe-<build>-<date>.json)',
      )
      .action((opts: { json: boolean; probe: boolean; output?: string }) => {
        if (opts.output !== undefined && !opts.probe) throw new UsageError('--output needs --probe');
        accept({
          kind: 'doctor',
          json: opts.json,
          ...(opts.probe && { probe: true as const }),
          ...(opts.output !== undefined && { output: opts.output }),
        });
      });
    program
      .command('gc')
      .description(
        'remove what crashes left behind: our orphaned compute systems, sandbox records and writable layers',
      )
      .option('--dry-run', 'only print what would be removed', false)
      .option('--json', 'machine-readable output', false)
      .action((opts: { dryRun: boolean; json: boolean }) =>
        accept({ kind: 'gc', dryRun: opts.dryRun, json: opts.json }),
      );
  },
  async run(plan, io) {
    if (plan.kind === 'doctor' && plan.probe) {
      const report = await sdk().runProbe({ log: (line) => io.err(`${line}\n`) });
      const path = await sdk().writeProbeReport(report, plan.output ?? sdk().defaultReportPath(report.host));
      if (plan.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
      else io.out(`${sdk().probeSummary(report)}report: ${path}\n`);
      return report.summary.fail > 0 ? 1 : 0;
    }
    if (plan.kind === 'doctor') {
      const checks = await sdk().runDoctor();
      if (plan.json) io.out(`${JSON.stringify(checks, null, 2)}\n`);
      else {
        for (const c of checks) {
          io.out(`${c.ok ? 'ok  ' : c.optional ? 'warn' : 'FAIL'}  ${c.check}: ${c.detail}\n`);
          if (!c.ok && c.fix) io.out(`      fix: ${c.fix}\n`);
        }
      }
      return checks.every((c) => c.ok || c.optional) ? 0 : 1;
    }
    const actions = await sdk().collectGarbage({ dryRun: plan.dryRun });
    if (plan.json) {
      io.out(`${JSON.stringify(actions, null, 2)}\n`);
    } else if (actions.length === 0) {
      io.out('nothing to remove\n');
    } else {
      printTable(io, [
        [plan.dryRun ? 'WOULD REMOVE' : 'REMOVED', 'WHAT', 'WHY'],
        ...actions.map((a) => [
          a.error
            ? `failed: ${a.error}`
            : a.leftAlone
              ? 'no (left alone)'
              : plan.dryRun
                ? 'yes'
                : a.removed
                  ? 'yes'
                  : 'no',
          `${a.kind} ${a.target}`,
          a.reason,
        ]),
      ]);
    }
    return actions.some((a) => a.error) ? 1 : 0;
  },
};
