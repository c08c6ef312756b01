import { DiskGuardError } from '../../storage/index.js';
import type { RowVerdicts } from './verdicts.js';
import type { RecordingBuildHost, StepClock } from './vm-build-recorder.js';

/** The rows of docs/windows-verification.md `vm.image-build` settles. */
export const VM_IMAGE_BUILD_ROWS = ['VB1', 'VB2', 'VB3', 'VB4', 'VB5', 'VB9', 'VS9'] as const;

/** What the file of a fixed VHDX adds to its capacity (header, log and metadata regions), as we assume. */
const FIXED_VHDX_OVERHEAD = 4 * 2 ** 20;

export interface ImageBuildRun {
  clock: StepClock;
  host: RecordingBuildHost;
  error: unknown;
  /** The capacity asked for. */
  sizeBytes: number;
  details: Record<string, unknown>;
}

function stepLine(clock: StepClock, step: string): string {
  const s = clock.outcomeOf(step);
  return s ? `${step} ${s.outcome} in ${s.ms} ms` : `${step} not run`;
}

/** Whether every named step ran and finished; undefined when one never ran. */
function stepsDone(clock: StepClock, steps: readonly string[]): boolean | undefined {
  const outcomes = steps.map((s) => clock.outcomeOf(s)?.outcome);
  if (outcomes.includes('failed')) return false;
  return outcomes.every((o) => o === 'done') ? true : undefined;
}

function settle(
  v: RowVerdicts,
  row: string,
  done: boolean | undefined,
  observed: string,
  error: unknown,
): void {
  if (done === true) v.confirm(row, observed);
  else if (done === false)
    v.refute(row, `${observed}: ${error instanceof Error ? error.message : String(error)}`);
}

/** What one image build says about each row (a row whose steps never ran stays not reached). */
export function imageBuildVerdicts(run: ImageBuildRun, v: RowVerdicts): void {
  const { clock, host, error } = run;
  const failedCommand = host.commands.find((c) => c.exitCode !== 0);
  const cause = failedCommand
    ? `${failedCommand.program} exited ${failedCommand.exitCode}: ${failedCommand.output ?? ''}`
    : error;

  settle(
    v,
    'VB1',
    stepsDone(clock, ['create-disk', 'apply-image']),
    `fixed VHDX created in ${host.createDiskMs ?? '?'} ms (CreateVirtualDisk); ${stepLine(clock, 'apply-image')}`,
    cause,
  );

  const paths = [...new Set(host.physicalPaths)];
  const sizes = host.diskSizes.slice(0, 1).map((d) => `disk ${d.disk}: ${d.bytes} bytes`);
  const guard = `GetVirtualDiskPhysicalPath ${paths.join(', ') || 'never asked'}; Get-Disk ${sizes.join(', ') || 'never asked'}; the VHDX's capacity ${run.sizeBytes}`;
  if (error instanceof DiskGuardError) v.refute('VB2', `${guard}: ${error.message}`);
  else if (host.diskSizes.length > 0) {
    const exact = host.diskSizes.every((d) => d.bytes === run.sizeBytes);
    if (exact && paths.every((p) => /^\\\\\.\\PhysicalDrive\d+$/i.test(p))) v.confirm('VB2', guard);
    else v.refute('VB2', guard);
  }

  settle(
    v,
    'VB3',
    stepsDone(clock, ['partition', 'mount-volumes', 'unmount-volumes']),
    ['partition', 'mount-volumes', 'unmount-volumes'].map((s) => stepLine(clock, s)).join('; '),
    cause,
  );
  settle(
    v,
    'VB4',
    stepsDone(clock, ['bcdboot', 'assert-bcd']),
    `${stepLine(clock, 'bcdboot')}; ${stepLine(clock, 'assert-bcd')}`,
    cause,
  );
  settle(
    v,
    'VB5',
    stepsDone(clock, ['apply-image']),
    `${stepLine(clock, 'apply-image')}, the image and its mount folder under ${String(run.details.vhdxPath)} (a path with a space)`,
    cause,
  );

  const base = run.details.base as { capacityBytes: number; fileBytes: number } | undefined;
  if (base) {
    const figures = clock.steps.map((s) => `${s.step} ${s.ms} ms`).join(', ');
    const overhead = base.fileBytes - base.capacityBytes;
    v.confirm('VB9', `a ${base.capacityBytes}-byte fixed VHDX takes ${base.fileBytes} bytes; ${figures}`);
    const sizes = `file ${base.fileBytes} bytes for a capacity of ${base.capacityBytes}: ${overhead} bytes more (BlockSize not read)`;
    if (overhead === FIXED_VHDX_OVERHEAD) v.confirm('VS9', sizes);
    else v.refute('VS9', sizes);
  }
}
