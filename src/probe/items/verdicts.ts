import type { ProbeItemResult, RowStatus, RowVerdict } from '../types.js';

/**
 * The verdicts of an item that settles several rows of
 * docs/windows-verification.md at once (the VM items): each row is confirmed,
 * refuted with the value observed, or not reached (and why), so a report maps
 * back to the table row by row even when the item stopped half-way.
 */
export class RowVerdicts {
  readonly #verdicts = new Map<string, RowVerdict>();

  /** Starts every row at `not reached`, with why (replaced as the item gets there). */
  constructor(rows: readonly string[], why = 'the item stopped before this row') {
    for (const row of rows) this.#verdicts.set(row, { status: 'not reached', observed: why });
  }

  confirm(row: string, observed: string): void {
    this.#set(row, 'confirmed', observed);
  }

  refute(row: string, observed: string): void {
    this.#set(row, 'refuted', observed);
  }

  notReached(row: string, why: string): void {
    this.#set(row, 'not reached', why);
  }

  /** Every row still `not reached` gets `why` (an item stopped by an error names the error). */
  stopped(why: string): void {
    for (const [row, verdict] of this.#verdicts)
      if (verdict.status === 'not reached') this.#verdicts.set(row, { status: 'not reached', observed: why });
  }

  status(row: string): RowStatus | undefined {
    return this.#verdicts.get(row)?.status;
  }

  #set(row: string, status: RowStatus, observed: string): void {
    if (!this.#verdicts.has(row)) throw new Error(`row ${row} is not one of this item's rows`);
    this.#verdicts.set(row, { status, observed });
  }

  toJSON(): Record<string, RowVerdict> {
    return Object.fromEntries(this.#verdicts);
  }

  /** `confirmed VB1 VB2; refuted VB5; not reached VB9`: the item's one-line reason. */
  summary(): string {
    const by = (status: RowStatus) =>
      [...this.#verdicts].filter(([, v]) => v.status === status).map(([row]) => row);
    return (['confirmed', 'refuted', 'not reached'] as const)
      .map((status) => [status, by(status)] as const)
      .filter(([, rows]) => rows.length > 0)
      .map(([status, rows]) => `${status} ${rows.join(' ')}`)
      .join('; ');
  }

  /**
   * The item's result: `fail` when a row was refuted or `error` stopped the
   * item, else `pass` (a row not reached is no failure: the host lacked what
   * it needs, and the verdict says what).
   */
  result(details: Record<string, unknown>, error?: unknown): ProbeItemResult {
    const verdicts = this.toJSON();
    const refuted = Object.values(verdicts).some((v) => v.status === 'refuted');
    if (error !== undefined) {
      const message = error instanceof Error ? error.message : String(error);
      this.stopped(`the item stopped on an error before this row: ${message}`);
      return {
        outcome: 'fail',
        reason: `${message} (${this.summary()})`,
        details: { ...details, error: message },
        verdicts: this.toJSON(),
      };
    }
    return { outcome: refuted ? 'fail' : 'pass', reason: this.summary(), details, verdicts };
  }
}

/** Milliseconds since `start` (a `performance.now()` reading), whole. */
export function since(start: number): number {
  return Math.round(performance.now() - start);
}
