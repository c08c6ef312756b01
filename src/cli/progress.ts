import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { formatBytes, type Progress } from '../index.js';
import type { Io } from './command.js';

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
        const bytes = BYTE_PHASES.has(p.phase) && p.total ? ` (${formatBytes(p.total)})` : '';
        io.err(`${p.phase.padEnd(9)} ${shortItem(p.item)}${bytes}\n`);
      },
      stop: () => {},
    };
  }
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
