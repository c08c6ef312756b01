import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';
import type { Progress } from '../index.js';
import type { Io } from './command.js';
import { sdk } from './sdk.js';

/**
 * Renders storage progress: one bar per item (layer) on a terminal, a line per
 * phase change otherwise (CI logs stay readable), nothing with `--json`.
 */
export function progressReporter(io: Io, mode: { json: boolean; tty: boolean }) {
  if (mode.json) return { onProgress: (_: Progress) => {}, stop: () => {} };
  if (!mode.tty) {
    const lastPhase = new Map<string, string>();
    return {
      onProgress: (p: Progress) => {
        if (lastPhase.get(p.item) === p.phase) return;
        lastPhase.set(p.item, p.phase);
        const bytes = BYTE_PHASES.has(p.phase) && p.total ? ` (${sdk().formatBytes(p.total)})` : '';
        io.err(`${p.phase.padEnd(9)} ${shortItem(p.item)}${bytes}\n`);
      },
      stop: () => {},
    };
  }
  // Loaded only for bars on a terminal: `create` and the verbs' help do not need it.
  const { MultiBar, Presets } = createRequire(import.meta.url)(
    'cli-progress',
  ) as typeof import('cli-progress');
  const multi = new MultiBar(
    {
      format: ' {phase} {item} [{bar}] {percentage}% {value}/{total}',
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  return {
    onProgress: (p: Progress) => {
      const total = p.total ?? Math.max(p.done, 1);
      let bar = bars.get(p.item);
      if (!bar) {
        bar = multi.create(total, p.done, { phase: p.phase.padEnd(8), item: shortItem(p.item) });
        bars.set(p.item, bar);
      }
      bar.setTotal(total);
      bar.update(p.done, { phase: p.phase.padEnd(8) });
    },
    stop: () => multi.stop(),
  };
}

/** Phases whose done/total count bytes (the others count steps). */
const BYTE_PHASES = new Set(['download', 'extract', 'read']);

function shortItem(item: string): string {
  return item.startsWith('sha256:') ? item.slice(7, 19) : item;
}

const SPINNER = ['|', '/', '-', '\\'];

/**
 * Progress of making and starting a sandbox, on stderr. By default one line:
 * a spinner with the current step on a terminal (cleared when done), nothing
 * in a log (CI). `verbose` adds the create's internal phases (create-disk,
 * format, ...), rewritten in place on a terminal, a line each otherwise.
 * Nothing with `quiet`.
 */
export function stepReporter(
  io: Io,
  mode: { tty: boolean; quiet: boolean; verbose?: boolean },
  name?: string,
) {
  const verbose = mode.verbose === true && !mode.quiet;
  const spin = mode.tty && !mode.quiet && !verbose;
  let last = '';
  let shown = false;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    io.err(`\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} ${last}`);
    shown = true;
  };
  const show = (text: string) => {
    if (text === last) return;
    last = text;
    if (spin) {
      draw();
      timer ??= setInterval(draw, 120).unref();
    } else if (verbose && mode.tty) {
      io.err(`\r\x1b[2K${text}`);
      shown = true;
    } else if (verbose) io.err(`${text}\n`);
  };
  return {
    /** Storage progress of the writable layer (its item is the layer's folder, named after the sandbox). */
    onProgress: (p: Progress) => {
      const label = name ?? p.item.split(/[\\/]/).pop() ?? 'sandbox';
      show(verbose ? `creating ${label}: ${p.phase}` : `creating ${label}`);
    },
    step: show,
    stop: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (shown) io.err('\r\x1b[2K');
      shown = false;
    },
  };
}
