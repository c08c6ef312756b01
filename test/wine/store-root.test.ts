import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runOk } from './harness.js';

// Issue 13 (findings 2, 18): the store root through the real advapi32 under Wine.
// Wine 8 keeps no descriptor here (no `user.wine.sd` round trip, measured): it
// reports the Unix owner (this user's SID, or ANONYMOUS LOGON for another uid)
// and a DACL made from the mode, and maps a DACL it is given onto the mode.
// So what this proves: the calls are declared right and succeed, a foreign
// owner is refused, and "others" lose their access. That the owner reads back
// as BUILTIN\Administrators on a real host is a docs/windows-verification.md item.

const winPath = (path: string) => `Z:${path.replaceAll('/', '\\')}`;
let work: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'hcs-store-root-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Outcome {
  ok: boolean;
  value?: { created: boolean; tightened: boolean } | string;
  error?: { name?: string; code?: string; reason?: string };
}

describe('the store root in Wine', () => {
  it('is created closed to others, tightened when open, refused when another user owns it', async () => {
    const loose = join(work, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    const foreign = join(work, 'foreign');
    mkdirSync(foreign, { mode: 0o700 });
    const canChown = process.getuid?.() === 0;
    if (canChown) chownSync(foreign, 4321, 4321);
    const fresh = join(work, 'fresh');
    const records = join(work, 'records');
    const r = await runOk<Record<string, Outcome> & { warnings: string[] }>(
      'store-root.mjs',
      [fresh, loose, foreign, records].map(winPath),
      { timeoutMs: 60_000 },
    );
    expect(r.created).toEqual({ ok: true, value: { root: winPath(fresh), created: true, tightened: false } });
    expect(statSync(fresh).mode & 0o007).toBe(0);
    expect(r.again).toMatchObject({ ok: true, value: { created: false, tightened: false } });

    expect(r.loose).toMatchObject({ ok: true, value: { created: false, tightened: true } });
    expect(statSync(loose).mode & 0o007).toBe(0);
    expect(r.looseAgain).toMatchObject({ ok: true, value: { tightened: false } });
    expect(r.warnings).toEqual(['HCS_SANDBOX_STORE_ROOT_TIGHTENED']);

    if (canChown) {
      expect(r.foreign).toMatchObject({
        ok: false,
        error: { name: 'StoreRootNotSecureError', code: 'STORE_ROOT_NOT_SECURE' },
      });
      expect(r.foreign?.error?.reason).toMatch(/owned by S-1-5-7/); // ANONYMOUS LOGON: Wine's "another uid"
    }

    expect(r.record).toEqual({ ok: true, value: 'web' });
    expect(statSync(records).mode & 0o007).toBe(0);
  });
});
