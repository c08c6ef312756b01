import type { Progress } from '../types.js';
import { stagedAgent, withPackagedAgent } from './build.js';
import { VmImageBuildError } from './build-errors.js';
import { type BuildHost, buildHost } from './build-host.js';
import { agentRefreshPlan, checkStagingEntries, type StagingEntry } from './build-plan.js';
import { StepRunner } from './step-runner.js';
import { checkVmImageName, VmImageStore } from './store.js';
import type { VmImageRecord } from './types.js';

export interface RefreshVmImageAgentOptions {
  /** Files to stage; the package's agent.exe is added unless they bring one. */
  stage?: StagingEntry[];
  /** Where agent.exe is (default: this package's dist/agent). */
  agentDir?: string;
  store?: VmImageStore;
  host?: BuildHost;
  onProgress?: (progress: Progress) => void;
}

/**
 * Writes the guest agent (and SetupComplete.cmd, which installs it at a
 * sandbox's first boot) into ready VM image `name` again: attach its base
 * disk, mount, copy, unmount, detach. Sandboxes made afterwards get the new
 * agent. The caller makes sure no sandbox differences over the disk (its
 * children would no longer match it): `refreshVmImageAgent` in the SDK does.
 * Not resumable: a failure detaches the disk, and running it again rewrites
 * the same files.
 */
export async function restageVmImageAgent(
  nameInput: string,
  options: RefreshVmImageAgentOptions = {},
): Promise<VmImageRecord> {
  const name = checkVmImageName('name', nameInput);
  const stage = withPackagedAgent(options.stage ?? [], true, options.agentDir);
  checkStagingEntries(stage);
  const store = options.store ?? new VmImageStore();
  await store.require(name); // a ready image only: an unfinished build is refused here
  const host = options.host ?? (await buildHost());
  host.requireElevation('vm image build --agent-only');
  const inputsFor = (diskNumber: number) => ({
    vhdxPath: store.pathsOf(name).vhdx,
    diskNumber,
    espLetter,
    workDir: store.pathsOf(name).work,
    system32: host.system32,
    stage,
  });
  const espLetter = await host.freeDriveLetter();
  let steps = agentRefreshPlan(inputsFor(0));
  // The record keeps the file's size, not the disk's capacity: the guard takes the capacity
  // of the disk this refresh attached, so it still refuses any other disk number.
  const runner = new StepRunner(host, Number.NaN);
  try {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      options.onProgress?.({ item: name, phase: step.name, done: i, total: steps.length });
      try {
        await runner.guard(step);
        await runner.run(step);
        if ('action' in step.run && step.run.action === 'attach-disk') {
          const disk = await runner.diskNumber();
          runner.capacityBytes = await host.diskSize(disk);
          steps = agentRefreshPlan(inputsFor(disk));
        }
      } catch (err) {
        throw new VmImageBuildError(name, step.name, err);
      }
    }
    options.onProgress?.({ item: name, phase: 'ready', done: steps.length, total: steps.length });
  } finally {
    await runner.disk?.close();
  }
  return store.setAgent(name, stagedAgent(stage)!);
}
