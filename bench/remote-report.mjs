// The remote exec section of `npm run bench`: what bench/wine/remote-exec.mjs
// measured, as printed lines and the document written to
// bench/results/remote-exec.json. Kept apart from run.mjs so the Wine tier can
// check the document's shape from a tiny run (no timings asserted).

const LABELS = {
  local: 'local commands.run',
  remoteRun: 'POST .../commands',
  remoteStream: 'WebSocket stream',
};

const ms = (x) => `${x.toFixed(1).padStart(7)} ms`;

export function remoteReport(measured, meta = {}) {
  const base = measured.local;
  const figure = (s) => ({
    mean: s.mean,
    p50: s.p50,
    p99: s.p99,
    addedP50: s.p50 - base.p50,
    ratioP50: s.p50 / base.p50,
  });
  const document = {
    benchmark: 'remote-exec',
    ...meta,
    iterations: measured.iterations,
    command: measured.command,
    local: figure(base),
    remoteRun: figure(measured.remoteRun),
    remoteStream: figure(measured.remoteStream),
  };
  const lines = Object.entries(LABELS).map(([key, label]) => {
    const f = document[key];
    const added =
      key === 'local' ? '' : `  added p50 ${f.addedP50.toFixed(1)} ms (${f.ratioP50.toFixed(2)}x)`;
    return `  ${label.padEnd(20)} p50 ${ms(f.p50)}  p99 ${ms(f.p99)}  mean ${ms(f.mean)}${added}`;
  });
  return { lines, document };
}
