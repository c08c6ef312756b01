import { fileError } from '../cli-error.js';
import { type CommandModule, UsageError } from '../command.js';
import { absoluteHostPath, parseCpOperand } from '../format.js';
import { sdk } from '../sdk.js';

export type SandboxFilesPlan =
  | { kind: 'sandbox-cp'; direction: 'in' | 'out'; name: string; sandboxPath: string; hostPath: string }
  | { kind: 'sandbox-share'; name: string; hostPath: string; sandboxPath: string; readOnly: boolean };

/** `cp SRC DST` with exactly one side `NAME:C:\path`. */
export function cpPlan(source: string, destination: string): SandboxFilesPlan {
  const from = parseCpOperand(source);
  const to = parseCpOperand(destination);
  if (from && to) throw new UsageError('cp copies between the host and a sandbox, not between two sandboxes');
  if (from)
    return {
      kind: 'sandbox-cp',
      direction: 'out',
      name: from.name,
      sandboxPath: from.path,
      hostPath: destination,
    };
  if (to)
    return { kind: 'sandbox-cp', direction: 'in', name: to.name, sandboxPath: to.path, hostPath: source };
  throw new UsageError('cp needs one side written as SANDBOX:C:\\path (e.g. box1:C:\\work\\a.txt)');
}

export const sandboxFilesCommand: CommandModule<SandboxFilesPlan> = {
  verbs: ['cp', 'share'],
  kinds: ['sandbox-cp', 'sandbox-share'],
  register(program, accept) {
    program
      .command('cp')
      .description('copy a file or folder between the host and a sandbox (SANDBOX:C:\\path on one side)')
      .argument('<source>', 'HOSTPATH or SANDBOX:C:\\path')
      .argument('<destination>', 'SANDBOX:C:\\path or HOSTPATH (the exact path to create)')
      .action((source: string, destination: string) => accept(cpPlan(source, destination)));
    program
      .command('share')
      .description('map a host folder into a running sandbox')
      .argument('<sandbox>', 'sandbox name')
      .argument('<hostPath>', 'folder on the host')
      .argument('<sandboxPath>', 'where it appears inside (C:\\...)')
      .option('--ro', 'read-only inside the sandbox', false)
      .action((name: string, hostPath: string, sandboxPath: string, opts: { ro: boolean }) =>
        accept({ kind: 'sandbox-share', name, hostPath, sandboxPath, readOnly: opts.ro }),
      );
  },
  async run(plan, io) {
    const sandbox = await sdk().Sandbox.open(plan.name);
    try {
      const hostPath = absoluteHostPath(plan.hostPath);
      switch (plan.kind) {
        case 'sandbox-cp':
          try {
            if (plan.direction === 'in') await sandbox.files.copyIn(hostPath, plan.sandboxPath);
            else await sandbox.files.copyOut(plan.sandboxPath, hostPath);
          } catch (error) {
            throw await fileError(
              error,
              plan.direction === 'in' ? hostPath : `${plan.name}:${plan.sandboxPath}`,
            );
          }
          return 0;
        case 'sandbox-share':
          await sandbox.folders.map(hostPath, plan.sandboxPath, { readOnly: plan.readOnly });
          io.out(`${hostPath} -> ${plan.name}:${plan.sandboxPath}${plan.readOnly ? ' (read-only)' : ''}\n`);
          return 0;
      }
    } finally {
      await sandbox.close();
    }
  },
};
