import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newInstance, repo, runOk } from './harness.js';

// Issue 12 (items 3, 4, 7, 9): the simulated host's rules of a real one
// (test-host/sim/privileges.c), against the product's storage layer in Wine.
// On the code before issue 12 the import fails (privileges never enabled,
// 0x80070522), and with that fixed the scratch layer fails (base never set up).

interface Outcome {
  ok: boolean;
  error?: { name?: string; code?: string; operation?: string; hresultHex?: string; path?: string };
}

const haveSimulatedStorage = existsSync(join(repo, 'test-host', 'sim', 'privileges.c'));
let work: string;
let storageRoot: string;
const winPath = (path: string) => `Z:${path.replaceAll('/', '\\')}`;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'hcs-rules-work-'));
  storageRoot = mkdtempSync(join(tmpdir(), 'hcs-rules-root-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(storageRoot, { recursive: true, force: true });
});

describe.runIf(haveSimulatedStorage)('host rules of the simulated storage', () => {
  it('privileges, base setup where the layer lives, unelevated, destroy that leaves the folder', async () => {
    const r = await runOk<Record<string, Outcome> & Record<string, unknown>>(
      'storage-rules.mjs',
      [winPath(work)],
      {
        instance: newInstance('sr'),
        env: { HCSSIM_STORAGE_ROOT: winPath(storageRoot) },
        timeoutMs: 120_000,
      },
    );
    expect(r.config).toMatchObject({ RequirePrivileges: true, RequireBaseSetup: true, Unelevated: false });
    // Item 3: the sim reads the process token; the product enabled backup and restore.
    expect(r.import).toEqual({ ok: true });
    expect(r.export).toEqual({ ok: true });
    // Item 4: not set up -> refused; set up here -> fine; set up elsewhere (moved) -> refused.
    expect(r.notSetUp).toMatchObject({
      ok: false,
      error: { operation: 'HcsInitializeWritableLayer', hresultHex: '0x80370112' },
    });
    expect(r.setup).toEqual({ ok: true });
    expect(r.baseAfterSetup).toEqual(
      expect.arrayContaining(['blank-base.vhdx', 'blank.vhdx', 'Hives', '.hcssim-baseos.json']),
    );
    expect(r.afterSetup).toEqual({ ok: true });
    expect(r.setUpElsewhere).toMatchObject({ ok: false, error: { hresultHex: '0x80370112' } });
    // Item 7: an empty mount path is ElevationRequiredError; format is denied.
    expect(r.unelevatedMount).toMatchObject({
      ok: false,
      error: {
        name: 'ElevationRequiredError',
        code: 'ELEVATION_REQUIRED',
        operation: 'HcsGetLayerVhdMountPath',
      },
    });
    expect(r.unelevatedCreate).toMatchObject({
      ok: false,
      error: { operation: 'HcsFormatWritableLayerVhd', hresultHex: '0x80070005' },
    });
    // Item 9: success with the folder left -> destroyed again; still there -> a typed error, folder intact.
    expect(r.destroyRetried).toEqual({ ok: true });
    expect(r.destroyRetriedGone).toBe(true);
    expect(r.destroyStuck).toMatchObject({
      ok: false,
      error: { name: 'LayerNotRemovedError', code: 'LAYER_NOT_REMOVED' },
    });
    expect(r.stuckStillThere).toBe(true);
    expect(r.layersLeft).toEqual([]);
    expect(r.audit).toMatchObject({ AttachedDisks: [], AttachedFilters: [], Violations: [] });
  });
});
