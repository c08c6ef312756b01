/**
 * The probe's vocabulary: an item exercises one or more rows of
 * docs/windows-verification.md on the host it runs on and says pass, fail or
 * skipped (with the reason), with what it measured.
 */

export type ProbeOutcome = 'pass' | 'fail' | 'skipped';

/** What a run found about one row of docs/windows-verification.md. */
export type RowStatus = 'confirmed' | 'refuted' | 'not reached';

export interface RowVerdict {
  status: RowStatus;
  /** What was observed (the value that refutes, what confirmed it), or why the row was not reached. */
  observed: string;
}

/** What one item found. `details` holds measurements, as plain JSON. */
export interface ProbeItemResult {
  outcome: ProbeOutcome;
  /** Why it was skipped or failed; for a pass, what it showed. */
  reason: string;
  details?: Record<string, unknown>;
  /**
   * Per row of docs/windows-verification.md (`VB1`, `VV4`...): confirmed,
   * refuted or not reached, for items that settle several rows at once.
   */
  verdicts?: Record<string, RowVerdict>;
}

/** What the host is: recorded once, at the top of the report. */
export interface ProbeHost {
  platform: string;
  arch: string;
  /** `os.release()`, e.g. 10.0.20348. */
  release: string;
  build: number;
  /** `os.version()`: the product name, e.g. "Windows Server 2022 Datacenter". */
  edition: string;
  /** TokenElevation of this process, or null when it could not be read. */
  elevated: boolean | null;
  /** The Wine version when the probe runs under Wine: the results then confirm nothing about Windows. */
  wine: string | null;
  hcsSandboxVersion: string;
  nodeVersion: string;
  /** HCS schema versions the service reports, or why they could not be read. */
  hcsSchemaVersions: string[] | { error: string };
}

/** What an item can use while it runs. */
export interface ProbeContext {
  readonly host: ProbeHost;
  /** Aborted when the item's time is up: stop and let cleanup run. */
  readonly signal: AbortSignal;
  /** A folder of this run, removed at the end. Absolute. */
  readonly workDir: string;
  /** The hcs-sandbox home the probe reads images from (default: the user's). */
  readonly home: string | undefined;
  /** Registers an undo; every undo runs after the item, newest first, even when it failed or timed out. */
  defer(what: string, undo: () => unknown): void;
  /** Notes progress (the CLI prints it on stderr). */
  log(message: string): void;
}

export interface ProbeItem {
  /** Stable id, named by docs/windows-verification.md (e.g. `hcs.cancel`). */
  id: string;
  title: string;
  /** The rows of docs/windows-verification.md this item confirms (e.g. "3", "A9"). */
  rows: string[];
  /** Per-item time limit (default from the runner). */
  timeoutMs?: number;
  run(ctx: ProbeContext): Promise<ProbeItemResult>;
}

/** One item's entry in the report. */
export interface ProbeItemReport extends ProbeItemResult {
  id: string;
  title: string;
  rows: string[];
  durationMs: number;
  /** Undo steps that failed: something the probe created may be left on the host. */
  cleanupErrors?: string[];
}

export interface ProbeReport {
  /** Format of this document. */
  format: 'hcs-sandbox-probe/1';
  createdAt: string;
  host: ProbeHost;
  items: ProbeItemReport[];
  summary: { pass: number; fail: number; skipped: number };
}

/** Thrown by an item to say it cannot run here (and why): reported as `skipped`, never `fail`. */
export class ProbeSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ProbeSkip';
  }
}

/** Skips the current item with `reason`. */
export function skip(reason: string): never {
  throw new ProbeSkip(reason);
}

/** A pass with its measurements. */
export function pass(reason: string, details?: Record<string, unknown>): ProbeItemResult {
  return { outcome: 'pass', reason, ...(details && { details }) };
}

/** A failure with its measurements. */
export function fail(reason: string, details?: Record<string, unknown>): ProbeItemResult {
  return { outcome: 'fail', reason, ...(details && { details }) };
}
