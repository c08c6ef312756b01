// The exec throughput section of `npm run bench`: turns what
// bench/wine/exec-throughput.mjs measured into printed lines and the document
// written to bench/results/exec-throughput.json. Kept apart from run.mjs so the
// Wine tier can check the document's shape from a tiny run (no timings asserted).

/** Issue 16: `commands.run` at least 0.9x child_process; streaming within 1.1x of its time. */
export const EXEC_TARGETS = { run: 0.9, stream: 1 / 1.1 };

const LABELS = {
  baseline: 'child_process.spawn',
  hcsPipe: 'HCS pipe alone',
  run: 'commands.run',
  runBuffer: "run, encoding 'buffer'",
  stream: 'spawn + Readable',
};

/** What each mode is held to: its target ratio, or none (the baseline and the host's own pipe). */
function targetOf(mode) {
  if (mode === 'run' || mode === 'runBuffer') return EXEC_TARGETS.run;
  if (mode === 'stream') return EXEC_TARGETS.stream;
  return undefined;
}

/**
 * `measured`: the result of exec-throughput.mjs. Returns `{ lines, document }`:
 * a table per size (MB/s, ratio to the baseline, target met or not) and the
 * JSON document (`sizes[].<mode>.{ms, medianMs, mbPerS, ratio, cpuMs, target, met}`;
 * `cpuMs`: the reading process's CPU time, best round).
 */
export function execReport(measured, meta = {}) {
  const lines = [];
  const sizes = measured.sizes.map((row) => {
    lines.push(
      `  ${row.mb} MB to stdout, best of ${row.rounds} (median in brackets; cpu: the reader's own CPU time):`,
    );
    const modes = {};
    for (const [mode, label] of Object.entries(LABELS)) {
      const { ms, medianMs, mbPerS, cpuMs } = row[mode];
      const ratio = row.baseline.ms / ms;
      const target = targetOf(mode);
      const met = target === undefined ? undefined : ratio >= target;
      modes[mode] = { ms, medianMs, mbPerS, ratio, cpuMs, ...(target !== undefined && { target, met }) };
      const verdict =
        mode === 'baseline'
          ? '(baseline)'
          : `${ratio.toFixed(2)}x${target === undefined ? '' : ` (target >= ${target.toFixed(2)}x: ${met ? 'met' : 'NOT met'})`}`;
      lines.push(
        `    ${label.padEnd(24)} ${mbPerS.toFixed(1).padStart(7)} MB/s  ${ms.toFixed(0).padStart(6)} ms (${medianMs.toFixed(0).padStart(5)})  cpu ${cpuMs.toFixed(0).padStart(4)} ms  ${verdict}`,
      );
    }
    return { mb: row.mb, bytes: row.bytes, rounds: row.rounds, ...modes };
  });
  const document = {
    benchmark: 'exec-throughput',
    ...meta,
    node: measured.node,
    retries: measured.retries,
    targets: EXEC_TARGETS,
    sizes,
  };
  return { lines, document };
}
