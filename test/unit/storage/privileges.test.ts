import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type NativeBindings,
  setNativeBindings,
  setSecurityBindings,
  setStorageBindings,
} from '../../../src/native/index.js';
import { ElevationRequiredError, LayerNotRemovedError } from '../../../src/storage/errors.js';
import { destroyLayer, exportLayer, importLayer, setupBaseLayer } from '../../../src/storage/layers.js';
import { createScratchLayer } from '../../../src/storage/scratch.js';
import { FakeStorage } from '../../support/fake-storage.js';

// Issue 12, items 3, 4, 7 and 9: what a real host asks of the process token,
// base-layer setup, and HcsDestroyLayer's "success" that leaves the folder.

let fake: FakeStorage;
let root: string;
let grants: string[];
const base = { id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: '/layers/base' };

beforeEach(() => {
  fake = new FakeStorage();
  setStorageBindings(fake);
  setSecurityBindings(fake.security);
  grants = [];
  setNativeBindings({
    computeCore: {
      grantVmGroupAccess: async (path: string) => {
        grants.push(path);
        return 0;
      },
    },
  } as unknown as NativeBindings);
  root = mkdtempSync(join(tmpdir(), 'hcs-privileges-'));
});
afterEach(() => {
  setStorageBindings(undefined);
  setSecurityBindings(undefined);
  setNativeBindings(undefined);
  rmSync(root, { recursive: true, force: true });
});

describe('backup and restore privileges', () => {
  it('are enabled on the process token once, before the first import, export or destroy', async () => {
    const layer = join(root, 'layer');
    await importLayer(layer, join(root, 'src'), []);
    await exportLayer(layer, join(root, 'out'), []);
    await destroyLayer(layer);
    expect(fake.securityCalls.filter((c) => c.fn === 'AdjustTokenPrivileges')).toEqual([
      { fn: 'AdjustTokenPrivileges', args: ['SeBackupPrivilege', 'SeRestorePrivilege'] },
    ]);
    expect(fake.sequence()).toEqual(['HcsImportLayer', 'HcsExportLayer', 'HcsDestroyLayer']);
  });

  it('not held: ElevationRequiredError naming them, and no storage call', async () => {
    fake.token.held.delete('SeRestorePrivilege');
    const error = await importLayer(join(root, 'l'), join(root, 's'), []).catch((e) => e);
    expect(error).toBeInstanceOf(ElevationRequiredError);
    expect(error).toMatchObject({ code: 'ELEVATION_REQUIRED', kind: 'unavailable' });
    expect(error.message).toContain('SeRestorePrivilege');
    expect(error.message).toContain('elevated shell');
    expect(fake.sequence()).toEqual([]);
  });

  it('an unelevated token fails import, export, destroy and scratch creation early', async () => {
    fake.token.elevated = false;
    fake.token.administrators = false;
    const dir = join(root, 'sb');
    for (const attempt of [
      importLayer(join(root, 'l'), join(root, 's'), []),
      exportLayer(join(root, 'l'), join(root, 'o'), []),
      destroyLayer(join(root, 'l')),
      createScratchLayer({ dir, sizeGB: 1, parents: [base] }),
    ]) {
      await expect(attempt).rejects.toBeInstanceOf(ElevationRequiredError);
    }
    expect(fake.sequence()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('an empty mount path', () => {
  it('is ElevationRequiredError (what a filtered token gets), not E_UNEXPECTED, and is rolled back', async () => {
    fake.fail('HcsGetLayerVhdMountPath', 0); // success, no path
    const error = await createScratchLayer({ dir: join(root, 'sb'), sizeGB: 1, parents: [base] }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ElevationRequiredError);
    expect(error.operation).toBe('HcsGetLayerVhdMountPath');
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [] });
  });
});

describe('setupBaseLayer', () => {
  function layer(withUvm: boolean): string {
    const dir = join(root, 'base');
    mkdirSync(join(dir, 'Files'), { recursive: true });
    mkdirSync(join(dir, 'Hives'), { recursive: true });
    if (withUvm) mkdirSync(join(dir, 'UtilityVM', 'Files'), { recursive: true });
    return dir;
  }

  it('container only: blank-base.vhdx, Container setup, blank.vhdx, group access to both', async () => {
    const dir = layer(false);
    await setupBaseLayer(dir);
    expect(fake.sequence()).toEqual([
      'CreateVirtualDisk',
      'HcsFormatWritableLayerVhd',
      'CloseHandle',
      'HcsSetupBaseOSLayer',
      'CreateVirtualDisk',
      'CloseHandle',
    ]);
    const setup = fake.calls.find((c) => c.fn === 'HcsSetupBaseOSLayer')!;
    expect(setup.args).toEqual([dir, null, '{"Type":"Container"}']);
    const diff = fake.calls.filter((c) => c.fn === 'CreateVirtualDisk')[1]!;
    expect(diff.args[0]).toBe(join(dir, 'blank.vhdx'));
    expect(diff.args[1]).toMatchObject({ parentPath: join(dir, 'blank-base.vhdx') });
    expect(grants).toEqual([join(dir, 'blank-base.vhdx'), join(dir, 'blank.vhdx')]);
    // HcsSetupBaseOSLayer refuses a layer that has Hives\ (it makes them): removed first.
    expect(existsSync(join(dir, 'Hives'))).toBe(false);
    expect(fake.ledger().liveHandles).toBe(0);
  });

  it('with UtilityVM\\Files: also Vm setup on <base>\\UtilityVM with the template disk attached', async () => {
    const dir = layer(true);
    writeFileSync(join(dir, 'UtilityVM', 'SystemTemplate.vhdx'), 'stale');
    await setupBaseLayer(dir);
    const uvm = join(dir, 'UtilityVM');
    expect(fake.sequence().slice(6)).toEqual([
      'CreateVirtualDisk',
      'AttachVirtualDisk',
      'HcsSetupBaseOSLayer',
      'DetachVirtualDisk',
      'CloseHandle',
      'CreateVirtualDisk',
      'CloseHandle',
    ]);
    const setups = fake.calls.filter((c) => c.fn === 'HcsSetupBaseOSLayer');
    expect(setups[1]!.args[0]).toBe(uvm);
    expect(setups[1]!.args[2]).toBe('{"Type":"Vm"}');
    expect(grants.slice(2)).toEqual([join(uvm, 'SystemTemplateBase.vhdx'), join(uvm, 'SystemTemplate.vhdx')]);
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [] });
  });

  it('needs an elevated token', async () => {
    fake.token.elevated = false;
    await expect(setupBaseLayer(layer(false))).rejects.toBeInstanceOf(ElevationRequiredError);
    expect(fake.sequence()).toEqual([]);
  });
});

describe('destroyLayer verifies the folder is gone', () => {
  it('destroys again when HcsDestroyLayer reported success and left the folder', async () => {
    const dir = join(root, 'layer');
    mkdirSync(join(dir, 'Files'), { recursive: true });
    fake.destroyLeaves.set(dir, 1);
    await destroyLayer(dir);
    expect(existsSync(dir)).toBe(false);
    expect(fake.sequence()).toEqual(['HcsDestroyLayer', 'HcsDestroyLayer']);
  });

  it('reports LayerNotRemovedError naming the folder when it stays, and never deletes it itself', async () => {
    const dir = join(root, 'stuck');
    mkdirSync(join(dir, 'Files'), { recursive: true });
    fake.destroyLeaves.set(dir, 99);
    const error = await destroyLayer(dir).catch((e) => e);
    expect(error).toBeInstanceOf(LayerNotRemovedError);
    expect(error).toMatchObject({ code: 'LAYER_NOT_REMOVED', path: dir });
    expect(error.message).toContain(dir);
    expect(existsSync(join(dir, 'Files'))).toBe(true);
    expect(fake.sequence()).toEqual(Array(4).fill('HcsDestroyLayer'));
  });
});
