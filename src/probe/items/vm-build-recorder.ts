import type { AttachedVhdx, BuildHost, CommandOutcome, MountedIso } from '../../storage/index.js';
import { since } from './verdicts.js';

/** One program the build ran: which, how it ended, how long it took. */
export interface RecordedCommand {
  program: string;
  exitCode: number;
  ms: number;
  /** The last lines of its output when it failed. */
  output?: string;
}

/** One build step, timed from its progress line to the next. */
export interface RecordedStep {
  step: string;
  ms: number;
  outcome: 'done' | 'failed';
}

/**
 * The real build host, watched: every program the build runs and every
 * question the disk guard asks (the attached VHDX's physical path, the size
 * Windows reports for a disk) is recorded on its way through, unchanged. The
 * build itself is the product's (`buildVmImage`); the probe only listens.
 */
export class RecordingBuildHost implements BuildHost {
  readonly commands: RecordedCommand[] = [];
  /** `GetVirtualDiskPhysicalPath` answers, in order. */
  readonly physicalPaths: string[] = [];
  /** `Get-Disk -Number N` sizes the guard compared, in order. */
  readonly diskSizes: { disk: number; bytes: number }[] = [];
  createDiskMs: number | undefined;

  constructor(private readonly inner: BuildHost) {}

  get system32(): string {
    return this.inner.system32;
  }

  requireElevation(operation: string): void {
    this.inner.requireElevation(operation);
  }

  freeSpace(path: string) {
    return this.inner.freeSpace(path);
  }

  async run(argv: readonly string[]): Promise<CommandOutcome> {
    const started = performance.now();
    const outcome = await this.inner.run(argv);
    const program = (argv[0] ?? '').split(/[\\/]/).pop() ?? '';
    const output = `${outcome.stdout}\n${outcome.stderr}`.trim().split(/\r?\n/).slice(-3).join(' | ');
    this.commands.push({
      program,
      exitCode: outcome.exitCode,
      ms: since(started),
      ...(outcome.exitCode !== 0 && output && { output }),
    });
    return outcome;
  }

  async createFixedVhdx(path: string, sizeBytes: number): Promise<void> {
    const started = performance.now();
    await this.inner.createFixedVhdx(path, sizeBytes);
    this.createDiskMs = since(started);
  }

  async attachVhdx(path: string): Promise<AttachedVhdx> {
    const attached = await this.inner.attachVhdx(path);
    return {
      physicalPath: async () => {
        const physical = await attached.physicalPath();
        this.physicalPaths.push(physical);
        return physical;
      },
      detach: () => attached.detach(),
      close: () => attached.close(),
    };
  }

  freeDriveLetter(): Promise<string> {
    return this.inner.freeDriveLetter();
  }

  mountIso(path: string): Promise<MountedIso> {
    return this.inner.mountIso(path);
  }

  async diskSize(number: number): Promise<number> {
    const bytes = await this.inner.diskSize(number);
    this.diskSizes.push({ disk: number, bytes });
    return bytes;
  }

  diskNumberOfPath(path: string): Promise<number | undefined> {
    return this.inner.diskNumberOfPath(path);
  }

  writeFile(path: string, text: string): Promise<void> {
    return this.inner.writeFile(path, text);
  }

  copyFile(from: string, to: string): Promise<void> {
    return this.inner.copyFile(from, to);
  }

  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }

  mkdir(path: string): Promise<void> {
    return this.inner.mkdir(path);
  }

  removeFile(path: string): Promise<void> {
    return this.inner.removeFile(path);
  }

  fileSize(path: string): Promise<number> {
    return this.inner.fileSize(path);
  }
}

/** Times the build's steps from its progress lines (each names the step starting). */
export class StepClock {
  readonly steps: RecordedStep[] = [];
  #current: { step: string; started: number } | undefined;

  readonly onProgress = (progress: { phase: string }): void => {
    this.#close('done');
    if (progress.phase !== 'ready') this.#current = { step: progress.phase, started: performance.now() };
  };

  /** The build ended: a step still open is the one that failed. */
  end(failed: boolean): void {
    this.#close(failed ? 'failed' : 'done');
  }

  outcomeOf(step: string): RecordedStep | undefined {
    return this.steps.find((s) => s.step === step);
  }

  #close(outcome: RecordedStep['outcome']): void {
    if (!this.#current) return;
    this.steps.push({ step: this.#current.step, ms: since(this.#current.started), outcome });
    this.#current = undefined;
  }
}
