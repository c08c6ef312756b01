import { type ChildProcess, spawn } from 'node:child_process';
import { ViewerLaunchError } from './errors.js';

/** The viewer Windows ships; it opens an `.rdp` file given as its one argument. */
export const VIEWER_PROGRAM = 'mstsc.exe';

export interface LaunchedViewer {
  /** Settles when the viewer process exits (never rejects). */
  readonly exited: Promise<void>;
  /** Ends the viewer if it still runs; idempotent. */
  kill(): void;
}

/** How the viewer is started; tests pass another. */
export type SpawnViewer = (program: string, args: string[]) => ChildProcess;

const spawnWindowed: SpawnViewer = (program, args) =>
  // No shell: the path is one argument whatever it contains. Not windowsHide: it is a window.
  spawn(program, args, { stdio: 'ignore', shell: false });

/**
 * Opens `rdpFile` in mstsc, as disco-vm does (`exec.Command("mstsc.exe", rdp)`,
 * discobox-ai/vm pkg/machine/hcs/console_windows.go). Resolves once the
 * process runs; a program that cannot be started is a {@link ViewerLaunchError}.
 */
export function launchViewer(
  rdpFile: string,
  start: SpawnViewer = spawnWindowed,
  program = VIEWER_PROGRAM,
): Promise<LaunchedViewer> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = start(program, [rdpFile]);
    } catch (error) {
      reject(new ViewerLaunchError(program, { cause: error }));
      return;
    }
    const exited = new Promise<void>((done) => {
      child.once('exit', () => done());
      child.once('error', () => done());
    });
    child.once('error', (error) => reject(new ViewerLaunchError(program, { cause: error })));
    child.once('spawn', () =>
      resolve({
        exited,
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill();
        },
      }),
    );
  });
}
