import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HcsError } from '../../../src/hcs/errors.js';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { setSecurityBindings, setStorageBindings } from '../../../src/native/index.js';
import { defaultLayerId } from '../../../src/storage/images/layer-id.js';
import {
  buildLayerData,
  destroyLayer,
  exportLayer,
  importLayer,
  layerIdFromPath,
  layerRef,
} from '../../../src/storage/layers.js';
import type { LayerImporter } from '../../../src/storage/types.js';
import { FakeStorage } from '../../support/fake-storage.js';

let fake: FakeStorage;
let root: string;
const base = { id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: '/layers/base' };
const app = { id: '8a3cbd3c-6b7e-5d1f-9c3e-2a1f4b5c6d7e', path: '/layers/app' };

beforeEach(() => {
  fake = new FakeStorage();
  setStorageBindings(fake);
  setSecurityBindings(fake.security);
  root = mkdtempSync(join(tmpdir(), 'hcs-layers-'));
});
afterEach(() => {
  setStorageBindings(undefined);
  setSecurityBindings(undefined);
  rmSync(root, { recursive: true, force: true });
});

describe('LayerData and layer ids', () => {
  it('lists the parents nearest first with Id and Path, schema 2.1', () => {
    expect(buildLayerData([app, base])).toEqual({
      SchemaVersion: { Major: 2, Minor: 1 },
      Layers: [
        { Id: app.id, Path: app.path },
        { Id: base.id, Path: base.path },
      ],
    });
    expect(buildLayerData([])).toEqual({ SchemaVersion: { Major: 2, Minor: 1 }, Layers: [] });
  });

  it('derives a layer id from the folder basename, the same as the image code does', () => {
    const id = layerIdFromPath('C:\\ProgramData\\layers\\abc123');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(layerIdFromPath('D:\\elsewhere\\abc123\\')).toBe(id);
    expect(id).toBe(defaultLayerId('abc123'));
    expect(layerIdFromPath('/x/other')).not.toBe(id);
    expect(layerRef('/x/abc123')).toEqual({ id, path: '/x/abc123' });
  });
});

describe('importLayer', () => {
  it('is a LayerImporter that calls HcsImportLayer with the parents as LayerData', async () => {
    const importer: LayerImporter = importLayer;
    const target = join(root, 'layer');
    await importer(target, join(root, 'extracted'), [base]);
    expect(fake.calls).toEqual([
      {
        fn: 'HcsImportLayer',
        args: [target, join(root, 'extracted'), JSON.stringify(buildLayerData([base]))],
      },
    ]);
  });

  it('turns a failing HRESULT into an HcsError naming HcsImportLayer', async () => {
    fake.fail('HcsImportLayer', 0x80070005 | 0);
    const error = await importLayer(join(root, 'l'), join(root, 's'), []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HcsError);
    expect((error as HcsError).operation).toBe('HcsImportLayer');
    expect((error as HcsError).hresult).toBe(0x80070005);
    expect((error as HcsError).isAccessDenied()).toBe(true);
  });

  it.each([
    ['layerPath', ['relative', '/abs', []]],
    ['sourcePath', ['/abs', 'rel\\x', []]],
    ['parents', ['/abs', '/src', 'nope']],
    ['parents[0].id', ['/abs', '/src', [{ id: 'not-a-guid', path: '/p' }]]],
    ['parents[1].path', ['/abs', '/src', [base, { id: base.id, path: 'relative' }]]],
  ])('rejects a bad %s before any native call', async (field, args) => {
    const error = await (importLayer as (...a: unknown[]) => Promise<void>)(...args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    expect(fake.calls).toEqual([]);
  });
});

describe('exportLayer', () => {
  it('passes IsWritableLayer so a sandbox writable layer can become an image layer', async () => {
    await exportLayer(join(root, 'scratch'), join(root, 'out'), [app, base], { writable: true });
    expect(fake.calls[0]).toEqual({
      fn: 'HcsExportLayer',
      args: [
        join(root, 'scratch'),
        join(root, 'out'),
        JSON.stringify(buildLayerData([app, base])),
        '{"IsWritableLayer":true}',
      ],
    });
    await exportLayer(join(root, 'ro'), join(root, 'out2'), [base]);
    expect(fake.calls[1]!.args[3]).toBe('{"IsWritableLayer":false}');
  });

  it('reports failures as HcsError naming HcsExportLayer', async () => {
    fake.fail('HcsExportLayer', 0x80070070 | 0);
    await expect(exportLayer(join(root, 'a'), join(root, 'b'), [])).rejects.toMatchObject({
      operation: 'HcsExportLayer',
      hresult: 0x80070070,
    });
  });

  it('validates the writable flag', async () => {
    await expect(
      exportLayer('/a', '/b', [], { writable: 'yes' as unknown as boolean }),
    ).rejects.toMatchObject({ field: 'writable' });
  });
});

describe('destroyLayer', () => {
  it('calls HcsDestroyLayer and treats a missing folder as done', async () => {
    await importLayer(join(root, 'gone'), join(root, 'src'), []);
    await destroyLayer(join(root, 'gone'));
    await destroyLayer(join(root, 'gone'));
    expect(fake.sequence()).toEqual(['HcsImportLayer', 'HcsDestroyLayer', 'HcsDestroyLayer']);
  });

  it('reports other failures', async () => {
    fake.fail('HcsDestroyLayer', 0x80070005 | 0);
    await expect(destroyLayer(root)).rejects.toMatchObject({ operation: 'HcsDestroyLayer' });
  });

  it('tries again when the folder is briefly not empty or in use', async () => {
    fake.fail('HcsDestroyLayer', 0x80070091 | 0);
    await expect(destroyLayer(root)).resolves.toBeUndefined();
  });
});
