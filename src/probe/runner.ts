import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FunctionUnavailableError, HcsError, HcsUnavailableError } from '../hcs/index.js';
import { describeHost } from './host.js';
import { probeItems } from './items/index.js';
import {
  type ProbeContext,
  type ProbeHost,
  type ProbeItem,
  type ProbeItemReport,
  type ProbeItemResult,
  type ProbeReport,
  ProbeSkip,
} from './types.js';

export interface ProbeOptions {
  /** Only these item ids (default: all). */
  only?: string[];
  /** Time limit of one item, unless the item sets its own (default 120 s). */
  itemTimeoutMs?: number;
  /** hcs-sandbox home to find images in (default: HCS_SANDBOX_HOME or the user's). */
  home?: string;
  /** Progress lines (item started, finished). */
  log?: (message: string) => void;
  /** The items to run (tests); default {@link probeItems}. */
  items?: readonly ProbeItem[];
  /** What the host is (tests); default measured by {@link describeHost}. */
  host?: ProbeHost;
}

const DEFAULT_ITEM_TIMEOUT_MS = 120_000;
/** After an item's time is up, how long its own code gets to notice the abort before cleanup starts. */
const ABORT_GRACE_MS = 5_000;

/**
 * Runs the probe: each item in turn, under its time limit, with its undo steps
 * run afterwards whatever happened. An item that needs something the host
 * lacks (not Windows, a feature off, no elevation, no image) is `skipped`.
 */
export async function runProbe(options: ProbeOptions = {}): Promise<ProbeReport> {
  const log = options.log ?? (() => {});
  const host = options.host ?? (await describeHost());
  const items = (options.items ?? probeItems).filter((i) => !options.only || options.only.includes(i.id));
  const workDir = await mkdtemp(join(tmpdir(), 'hcs-sandbox-probe-'));
  const reports: ProbeItemReport[] = [];
  try {
    for (const item of items) {
      log(`${item.id}: ${item.title}`);
      const report = await runItem(item, host, workDir, options, log);
      log(`${item.id}: ${report.outcome} (${report.durationMs} ms) ${report.reason}`);
      reports.push(report);
    }
  } finally {
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
  const count = (o: string) => reports.filter((r) => r.outcome === o).length;
  return {
    format: 'hcs-sandbox-probe/1',
    createdAt: new Date().toISOString(),
    host,
    items: reports,
    summary: { pass: count('pass'), fail: count('fail'), skipped: count('skipped') },
  };
}

async function runItem(
  item: ProbeItem,
  host: ProbeHost,
  workDir: string,
  options: ProbeOptions,
  log: (message: string) => void,
): Promise<ProbeItemReport> {
  const base = { id: item.id, title: item.title, rows: item.rows };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (host.platform !== 'win32') {
    return { ...base, outcome: 'skipped', reason: `not Windows (${host.platform})`, durationMs: 0 };
  }
  const undo: { what: string; fn: () => unknown }[] = [];
  const controller = new AbortController();
  const ctx: ProbeContext = {
    host,
    signal: controller.signal,
    workDir,
    home: options.home,
    defer: (what, fn) => undo.push({ what, fn }),
    log: (message) => log(`  ${item.id}: ${message}`),
  };
  const limit = item.timeoutMs ?? options.itemTimeoutMs ?? DEFAULT_ITEM_TIMEOUT_MS;
  const running = item.run(ctx).then(
    (result) => result,
    (error: unknown) => fromError(error, host),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<ProbeItemResult>((done) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`${item.id} timed out`));
      done({ outcome: 'fail', reason: `did not finish within ${limit} ms` });
    }, limit);
  });
  let result = await Promise.race([running, timedOut]);
  clearTimeout(timer);
  if (controller.signal.aborted) {
    // Give the item's own code a moment to stop before undoing under it.
    await Promise.race([running, new Promise((r) => setTimeout(r, ABORT_GRACE_MS).unref())]);
  }
  const cleanupErrors: string[] = [];
  for (const step of undo.reverse()) {
    try {
      await step.fn();
    } catch (error) {
      cleanupErrors.push(`${step.what}: ${(error as Error).message}`);
    }
  }
  if (cleanupErrors.length && result.outcome === 'pass') {
    result = { ...result, outcome: 'fail', reason: `passed, but cleanup failed: ${cleanupErrors[0]}` };
  }
  return {
    ...base,
    ...result,
    durationMs: elapsed(),
    ...(cleanupErrors.length && { cleanupErrors }),
  };
}

/** An exception from an item: a missing prerequisite is a skip, anything else a failure. */
function fromError(error: unknown, host: ProbeHost): ProbeItemResult {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ProbeSkip) return { outcome: 'skipped', reason: message };
  if (error instanceof HcsUnavailableError || error instanceof FunctionUnavailableError) {
    return { outcome: 'skipped', reason: `not available on this host: ${message}` };
  }
  if (host.elevated === false && error instanceof HcsError && error.isAccessDenied()) {
    return { outcome: 'skipped', reason: `needs an elevated shell: ${message}` };
  }
  const details: Record<string, unknown> = { error: message };
  if (error instanceof Error && error.name) details.errorName = error.name;
  if (error instanceof HcsError)
    Object.assign(details, { hresult: error.hresultHex, hresultName: error.hresultName });
  return { outcome: 'fail', reason: message, details };
}

/** `hcs-sandbox-probe-<build>-<yyyy-mm-dd>.json` in `dir`. */
export function defaultReportPath(
  host: Pick<ProbeHost, 'build'>,
  dir = process.cwd(),
  now = new Date(),
): string {
  return resolve(dir, `hcs-sandbox-probe-${host.build}-${now.toISOString().slice(0, 10)}.json`);
}

/** Writes the report as indented JSON and returns its path. */
export async function writeProbeReport(report: ProbeReport, path: string): Promise<string> {
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

/** A few lines for a person: the host, then one line per item, then the totals. */
export function probeSummary(report: ProbeReport): string {
  const h = report.host;
  const lines = [
    `host: ${h.edition} build ${h.release}, ${h.elevated === null ? 'elevation unknown' : h.elevated ? 'elevated' : 'not elevated'}, hcs-sandbox ${h.hcsSandboxVersion}, node ${h.nodeVersion}`,
  ];
  if (h.wine)
    lines.push(`NOTE: running under Wine ${h.wine}: these results confirm nothing about real Windows`);
  for (const item of report.items) {
    lines.push(`${item.outcome.padEnd(7)} ${item.id} (rows ${item.rows.join(', ')}): ${item.reason}`);
    for (const [row, verdict] of Object.entries(item.verdicts ?? {}))
      lines.push(`        ${row} ${verdict.status}: ${verdict.observed}`);
  }
  const s = report.summary;
  lines.push(`${s.pass} passed, ${s.fail} failed, ${s.skipped} skipped`);
  return `${lines.join('\n')}\n`;
}
