import type { AttachedVhdx, BuildHost } from './build-host.js';
import type { BuildStep } from './build-plan.js';
import { assertOurDisk, diskNumberOf } from './disk-guard.js';

/** Runs one build step on the build host, holding the attached VHDX between steps. */
export class StepRunner {
  disk: AttachedVhdx | undefined;
  constructor(
    private readonly host: BuildHost,
    /** The attached disk's capacity the guard expects (the build's VHDX size). */
    public capacityBytes: number,
  ) {}

  async run(step: BuildStep): Promise<void> {
    const host = this.host;
    const run = step.run;
    if ('argv' in run) {
      for (const dir of run.dirs ?? []) await host.mkdir(dir);
      if (run.script) await host.writeFile(run.script.path, run.script.text);
      const outcome = await host.run(run.argv);
      if (outcome.exitCode !== 0) {
        const output = `${outcome.stdout}\n${outcome.stderr}`.trim().split(/\r?\n/).slice(-5).join(' | ');
        throw new Error(`${run.argv[0]} exited with ${outcome.exitCode}${output ? `: ${output}` : ''}.`);
      }
      return;
    }
    switch (run.action) {
      case 'create-disk':
        // Not recorded as done, so any file there is a half-made one of ours.
        if (await host.exists(run.path)) await host.removeFile(run.path);
        return host.createFixedVhdx(run.path, run.sizeBytes);
      case 'attach-disk':
        this.disk = await host.attachVhdx(run.path);
        return;
      case 'write-file':
        return host.writeFile(run.path, run.text);
      case 'copy-files':
        for (const file of run.files) await host.copyFile(file.from, file.to);
        return;
      case 'assert-file':
        if (!(await host.exists(run.path))) throw new Error(`${run.path} is missing: ${run.why}.`);
        return;
      case 'detach-disk':
        await this.attached().detach();
        this.disk = undefined;
        return;
    }
  }

  attached(): AttachedVhdx {
    if (!this.disk) throw new Error('the VHDX is not attached');
    return this.disk;
  }

  async diskNumber(): Promise<number> {
    const path = await this.attached().physicalPath();
    const number = diskNumberOf(path);
    if (number === undefined)
      throw new Error(`the attached VHDX reports ${JSON.stringify(path)}, not \\\\.\\PhysicalDriveN`);
    return number;
  }

  guard(step: BuildStep): Promise<number> | undefined {
    if (!step.guard) return undefined;
    return assertOurDisk(step.name, step.guard, this.capacityBytes, {
      ourPhysicalPath: () => this.attached().physicalPath(),
      diskSize: (n) => this.host.diskSize(n),
      diskNumberOfPath: (p) => this.host.diskNumberOfPath(p),
    });
  }
}

/** Whether a session step (attach, mount) is still needed: some later once-only step is not done. */
export function sessionNeeded(steps: BuildStep[], from: number, done: Set<string>): boolean {
  return steps.slice(from + 1).some((s) => !s.session && !done.has(s.name));
}
