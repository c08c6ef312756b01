import { rmSync } from 'node:fs';
import type { Sandbox } from '../../index.js';
import type { CommandModule } from '../command.js';
import { eachName, logFiles, parseNonNegativeInt } from '../format.js';
import { sdk } from '../sdk.js';

export type SandboxLifecyclePlan =
  | { kind: 'sandbox-stop'; names: string[]; timeSeconds: number; force?: true }
  | { kind: 'sandbox-kill'; names: string[]; force?: true }
  | { kind: 'sandbox-pause'; names: string[] }
  | { kind: 'sandbox-resume'; names: string[] }
  | { kind: 'sandbox-rm'; names: string[]; force: boolean };

/** Opens `name`, runs `fn` on it, releases this process's handle (the sandbox keeps running). */
async function withSandbox(
  name: string,
  fn: (sandbox: Sandbox) => Promise<unknown>,
  force = false,
): Promise<void> {
  // Compute systems hcs-sandbox did not create are refused unless forced (NotOwnedError says so).
  const sandbox = await sdk().Sandbox.open(name, { force });
  try {
    await fn(sandbox);
  } finally {
    await sandbox.close();
  }
}

export const sandboxLifecycleCommand: CommandModule<SandboxLifecyclePlan> = {
  verbs: ['stop', 'kill', 'pause', 'resume', 'rm', 'remove'],
  kinds: ['sandbox-stop', 'sandbox-kill', 'sandbox-pause', 'sandbox-resume', 'sandbox-rm'],
  register(program, accept) {
    program
      .command('stop')
      .description('stop sandboxes: a graceful shutdown, forced after --time seconds')
      .argument('<sandbox...>', 'sandbox names')
      .option(
        '-t, --time <seconds>',
        'seconds to wait for a graceful shutdown before forcing',
        parseNonNegativeInt,
        10,
      )
      .option('--force', 'also act on a compute system hcs-sandbox did not create (by id)', false)
      .action((names: string[], opts: { time: number; force: boolean }) =>
        accept({
          kind: 'sandbox-stop',
          names,
          timeSeconds: opts.time,
          ...(opts.force && { force: true as const }),
        }),
      );
    program
      .command('kill')
      .description('stop sandboxes at once (terminate)')
      .argument('<sandbox...>', 'sandbox names')
      .option('--force', 'also act on a compute system hcs-sandbox did not create (by id)', false)
      .action((names: string[], opts: { force: boolean }) =>
        accept({ kind: 'sandbox-kill', names, ...(opts.force && { force: true as const }) }),
      );
    program
      .command('pause')
      .description('pause running sandboxes')
      .argument('<sandbox...>', 'sandbox names')
      .action((names: string[]) => accept({ kind: 'sandbox-pause', names }));
    program
      .command('resume')
      .description('resume paused sandboxes')
      .argument('<sandbox...>', 'sandbox names')
      .action((names: string[]) => accept({ kind: 'sandbox-resume', names }));
    program
      .command('rm')
      .alias('remove')
      .description('remove sandboxes: compute system, writable layer, record and logs')
      .argument('<sandbox...>', 'sandbox names')
      .option(
        '-f, --force',
        'stop running (or paused) sandboxes first; also acts on a compute system hcs-sandbox did not create',
        false,
      )
      .action((names: string[], opts: { force: boolean }) =>
        accept({ kind: 'sandbox-rm', names, force: opts.force }),
      );
  },
  async run(plan, io) {
    const done = (name: string) => io.out(`${name}\n`);
    switch (plan.kind) {
      case 'sandbox-stop':
        return eachName(io, plan.names, async (name) => {
          await withSandbox(
            name,
            (sb) => (plan.timeSeconds === 0 ? sb.kill() : sb.stop({ timeoutMs: plan.timeSeconds * 1000 })),
            plan.force === true,
          );
          done(name);
        });
      case 'sandbox-kill':
        return eachName(io, plan.names, async (name) => {
          await withSandbox(name, (sb) => sb.kill(), plan.force === true);
          done(name);
        });
      case 'sandbox-pause':
        return eachName(io, plan.names, async (name) => {
          await withSandbox(name, (sb) => sb.pause());
          done(name);
        });
      case 'sandbox-resume':
        return eachName(io, plan.names, async (name) => {
          await withSandbox(name, (sb) => sb.resume());
          done(name);
        });
      case 'sandbox-rm':
        return eachName(io, plan.names, async (name) => {
          await withSandbox(
            name,
            async (sb) => {
              const { status } = await sb.info();
              if (!plan.force && (status === 'running' || status === 'paused')) {
                throw new (sdk().SandboxRunningError)(
                  name,
                  status,
                  'stop it first, or remove it anyway with rm -f',
                );
              }
              await sb.remove();
            },
            plan.force,
          );
          const files = logFiles(name);
          rmSync(files.log, { force: true });
          rmSync(files.exit, { force: true });
          done(name);
        });
    }
  },
};
