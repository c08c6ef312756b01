import { afterEach, describe, expect, it, vi } from 'vitest';
import { stepReporter } from '../../../src/cli/progress.js';

function capture() {
  const err: string[] = [];
  return { io: { out: () => undefined, err: (s: string) => void err.push(s) }, err };
}
const phase = (p: string) => ({ item: 'C:\\state\\scratch\\box1', phase: p, done: 0 });

afterEach(() => {
  vi.useRealTimers();
});

describe('stepReporter: the progress of making a sandbox', () => {
  it('prints nothing when stderr is not a terminal (CI), unless --verbose', () => {
    const { io, err } = capture();
    const progress = stepReporter(io, { tty: false, quiet: false }, 'box1');
    progress.onProgress(phase('create-disk'));
    progress.step('starting box1');
    progress.stop();
    expect(err).toEqual([]);
  });

  it('--verbose: the internal phases, a line each in a log', () => {
    const { io, err } = capture();
    const progress = stepReporter(io, { tty: false, quiet: false, verbose: true }, 'box1');
    progress.onProgress(phase('create-disk'));
    progress.onProgress(phase('create-disk'));
    progress.onProgress(phase('format'));
    progress.step('starting box1');
    progress.stop();
    expect(err).toEqual(['creating box1: create-disk\n', 'creating box1: format\n', 'starting box1\n']);
  });

  it('a terminal: one spinner line with the step, no phases, cleared at the end', () => {
    vi.useFakeTimers();
    const { io, err } = capture();
    const progress = stepReporter(io, { tty: true, quiet: false }, 'box1');
    progress.onProgress(phase('create-disk'));
    progress.onProgress(phase('format'));
    vi.advanceTimersByTime(250);
    progress.step('starting box1');
    progress.stop();
    vi.advanceTimersByTime(1000);
    expect(err.join('')).not.toContain('create-disk');
    expect(err.slice(0, 3)).toEqual([
      '\r\x1b[2K| creating box1',
      '\r\x1b[2K/ creating box1',
      '\r\x1b[2K- creating box1',
    ]);
    expect(err.at(-2)?.startsWith('\r\x1b[2K')).toBe(true);
    expect(err.at(-2)?.endsWith(' starting box1')).toBe(true);
    expect(err.at(-1)).toBe('\r\x1b[2K');
  });

  it('-q: nothing, on a terminal too', () => {
    const { io, err } = capture();
    const progress = stepReporter(io, { tty: true, quiet: true, verbose: true }, 'box1');
    progress.onProgress(phase('create-disk'));
    progress.stop();
    expect(err).toEqual([]);
  });
});
