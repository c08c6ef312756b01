import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeItems } from '../../../src/probe/index.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const verification = readFileSync(join(repo, 'docs/windows-verification.md'), 'utf8');
const probeDoc = readFileSync(join(repo, 'docs/probe.md'), 'utf8');
// The audit lives beside the repository (shared/docs), not in it: checked where it is present.
const auditPath = join(repo, '../shared/docs/REAL-WINDOWS-AUDIT.md');

/** The first cell of every table row: `1`, `A4`, `I17`... */
const rowIds = new Set(
  verification
    .split('\n')
    .map((l) => l.match(/^\|\s*([A-Z]{0,2}\d+)\s*\|/)?.[1])
    .filter((id): id is string => id !== undefined),
);

describe('docs/windows-verification.md and the probe', () => {
  it('every row an item claims exists, and the row names that item', () => {
    for (const item of probeItems) {
      for (const row of item.rows) {
        expect(rowIds.has(row), `${item.id} claims row ${row}`).toBe(true);
        const line = verification.split('\n').find((l) => new RegExp(`^\\|\\s*${row}\\s*\\|`).test(l));
        expect(line, `row ${row}`).toContain(`\`${item.id}\``);
      }
      expect(probeDoc, `docs/probe.md lists ${item.id}`).toContain(`\`${item.id}\``);
    }
  });

  it('covers every ranked row of REAL-WINDOWS-AUDIT.md (A1-A16 at 82dae82, and any row the audit adds)', () => {
    // The audit lives in shared/ beside the checkout (CI has it; a bare clone may not):
    // its 16 ranked rows are checked always, rows it gains only where it is present.
    const ranked = Array.from({ length: 16 }, (_, i) => String(i + 1));
    if (existsSync(auditPath)) {
      for (const line of readFileSync(auditPath, 'utf8').split('\n')) {
        const n = line.match(/^\|\s*(\d+)\s*\|\s*(?:\*\*)?(?:Blocks|Breaks|Possibly|Hyper-V|Minor)/)?.[1];
        if (n !== undefined && !ranked.includes(n)) ranked.push(n);
      }
    }
    for (const n of ranked) expect(rowIds.has(`A${n}`), `audit row ${n}`).toBe(true);
  });
});
