import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HcsError } from '../../../src/hcs/errors.js';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { AttachVirtualDiskFlag, setSecurityBindings, setStorageBindings } from '../../../src/native/index.js';
import {
  InsufficientSpaceError,
  RollbackError,
  ScratchLayerStateError,
} from '../../../src/storage/errors.js';
import { buildLayerData } from '../../../src/storage/layers.js';
import {
  createScratchLayer,
  destroyScratchLayer,
  mountedScratchLayers,
  mountScratchLayer,
  type ScratchLayer,
  scratchSize,
  unmountScratchLayer,
} from '../../../src/storage/scratch.js';
import { freeSpace } from '../../../src/storage/space.js';
import type { Progress } from '../../../src/storage/types.js';
import { FakeStorage } from '../../support/fake-storage.js';

vi.mock('../../../src/storage/space.js', () => ({
  freeSpace: vi.fn(async () => ({ volume: 'C:\\', freeBytes: 2 ** 50 })),
}));

const base = { id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: '/layers/base' };
const app = { id: '8a3cbd3c-6b7e-5d1f-9c3e-2a1f4b5c6d7e', path: '/layers/app' };
const parents = [app, base];

const CREATE_STEPS = [
  'CreateVirtualDisk',
  'HcsFormatWritableLayerVhd',
  'AttachVirtualDisk',
  'HcsGetLayerVhdMountPath',
  'HcsInitializeWritableLayer',
  'HcsAttachLayerStorageFilter',
];

/** What the rollback must run after a failure at each step, in this order. */
const CREATE_UNDO: Record<string, string[]> = {
  CreateVirtualDisk: ['HcsDestroyLayer'],
  HcsFormatWritableLayerVhd: ['CloseHandle', 'HcsDestroyLayer'],
  AttachVirtualDisk: ['CloseHandle', 'HcsDestroyLayer'],
  HcsGetLayerVhdMountPath: ['DetachVirtualDisk', 'CloseHandle', 'HcsDestroyLayer'],
  HcsInitializeWritableLayer: ['DetachVirtualDisk', 'CloseHandle', 'HcsDestroyLayer'],
  HcsAttachLayerStorageFilter: ['DetachVirtualDisk', 'CloseHandle', 'HcsDestroyLayer'],
};

let fake: FakeStorage;
let root: string;
let dir: string;

beforeEach(() => {
  fake = new FakeStorage();
  setStorageBindings(fake);
  setSecurityBindings(fake.security);
  root = mkdtempSync(join(tmpdir(), 'hcs-scratch-'));
  dir = join(root, 'sandboxes', 'sb1');
});

afterEach(async () => {
  for (const layer of mountedScratchLayers()) await unmountScratchLayer(layer).catch(() => {});
  setStorageBindings(undefined);
  setSecurityBindings(undefined);
  rmSync(root, { recursive: true, force: true });
  vi.mocked(freeSpace).mockClear();
});

function expectNothingLeft(): void {
  expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
  expect(existsSync(dir)).toBe(false);
  expect(readdirSync(root)).toEqual([]); // not even the intermediate folder mkdir created
}

describe('createScratchLayer', () => {
  it('creates, formats, attaches, initialises and filters the layer in that order', async () => {
    const progress: Progress[] = [];
    const layer = await createScratchLayer(
      { dir, sizeGB: 20, parents },
      { onProgress: (p) => progress.push(p) },
    );
    expect(fake.sequence()).toEqual(CREATE_STEPS);
    expect(layer).toEqual({
      dir,
      vhdxPath: join(dir, 'sandbox.vhdx'),
      volumePath: '\\\\?\\Volume{fake-1}\\',
      parents,
    });
    expect(Object.isFrozen(layer)).toBe(true);

    const [create, , attach, , init, filter] = fake.calls;
    expect(create!.args).toEqual([
      join(dir, 'sandbox.vhdx'),
      { maximumSizeBytes: 20n * 2n ** 30n, blockSizeBytes: 1024 * 1024 },
    ]);
    expect(attach!.args[1]).toBe(
      AttachVirtualDiskFlag.NoDriveLetter | AttachVirtualDiskFlag.PermanentLifetime,
    );
    const layerData = JSON.stringify(buildLayerData(parents));
    expect(init!.args).toEqual([layer.volumePath, layerData, null]);
    expect(filter!.args).toEqual([layer.volumePath, layerData]);

    // Mounted: the disk handle stays open, the disk and the filter attached.
    expect(fake.ledger()).toMatchObject({
      liveHandles: 1,
      attachedDisks: [layer.vhdxPath],
      attachedFilters: [layer.volumePath],
    });
    expect(progress.map((p) => p.phase)).toEqual([
      'create-disk',
      'format',
      'attach',
      'mount-path',
      'initialize',
      'attach-filter',
    ]);
    expect(progress.every((p, i) => p.item === dir && p.done === i && p.total === 6)).toBe(true);
    expect(mountedScratchLayers()).toEqual([layer]);
    expect(await scratchSize(dir)).toBeGreaterThan(0);
  });

  it.each(CREATE_STEPS)('a failure of %s is undone in reverse and leaves nothing behind', async (step) => {
    fake.fail(step, step.startsWith('Hcs') ? 0x80070015 | 0 : 21); // ERROR_NOT_READY
    const error = await createScratchLayer({ dir, sizeGB: 8, parents }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HcsError);
    expect((error as HcsError).operation).toBe(step);
    expect((error as HcsError).hresult).toBe(0x80070015);
    const seq = fake.sequence();
    const failedAt = seq.indexOf(step);
    expect(seq.slice(0, failedAt)).toEqual(CREATE_STEPS.slice(0, CREATE_STEPS.indexOf(step)));
    expect(seq.slice(failedAt + 1)).toEqual(CREATE_UNDO[step]);
    expectNothingLeft();
    expect(mountedScratchLayers()).toEqual([]);
  });

  it.each(CREATE_STEPS)('a native exception in %s is undone the same way', async (step) => {
    fake.fail(step, 'throw');
    await expect(createScratchLayer({ dir, sizeGB: 8, parents })).rejects.toThrow(
      `injected exception in ${step}`,
    );
    expectNothingLeft();
  });

  it('keeps a folder that existed before, removing only what it created', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    fake.fail('HcsInitializeWritableLayer', 0x80004005 | 0);
    await expect(createScratchLayer({ dir, sizeGB: 8, parents })).rejects.toBeInstanceOf(HcsError);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
  });

  it('falls back to a plain delete when HcsDestroyLayer fails while undoing', async () => {
    fake.fail('HcsFormatWritableLayerVhd', 0x80004005 | 0);
    fake.fail('HcsDestroyLayer', 0x80070005 | 0);
    const error = await createScratchLayer({ dir, sizeGB: 8, parents }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HcsError);
    expect((error as HcsError).operation).toBe('HcsFormatWritableLayerVhd');
    expectNothingLeft();
  });

  it('reports an undo that failed too (RollbackError), after running every other undo', async () => {
    fake.fail('HcsAttachLayerStorageFilter', 0x80004005 | 0);
    fake.fail('DetachVirtualDisk', 5);
    const error = await createScratchLayer({ dir, sizeGB: 8, parents }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackError);
    const rollback = error as RollbackError;
    expect((rollback.cause as HcsError).operation).toBe('HcsAttachLayerStorageFilter');
    expect(rollback.undoFailures).toHaveLength(1);
    expect(rollback.undoFailures[0]!.step).toBe('AttachVirtualDisk');
    expect((rollback.undoFailures[0]!.error as HcsError).operation).toBe('DetachVirtualDisk');
    // The handle was still closed; the disk is what is left, so its folder is kept for destroyScratchLayer.
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedFilters: [] });
    expect(fake.ledger().attachedDisks).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['sandbox.vhdx']);
    await destroyScratchLayer(dir);
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
    expect(existsSync(dir)).toBe(false);
  });

  it('stops between steps when aborted and undoes what was done', async () => {
    const controller = new AbortController();
    const error = await createScratchLayer(
      { dir, sizeGB: 8, parents },
      { signal: controller.signal, onProgress: (p) => p.phase === 'initialize' && controller.abort() },
    ).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(fake.sequence()).toEqual([
      'CreateVirtualDisk',
      'HcsFormatWritableLayerVhd',
      'AttachVirtualDisk',
      'HcsGetLayerVhdMountPath',
      'DetachVirtualDisk',
      'CloseHandle',
      'HcsDestroyLayer',
    ]);
    expectNothingLeft();
  });

  it('does nothing for an already aborted signal', async () => {
    await expect(
      createScratchLayer({ dir, sizeGB: 8, parents }, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(fake.calls).toEqual([]);
  });

  it.each([
    ['dir', { dir: 'relative\\dir', sizeGB: 8, parents }],
    ['dir', { dir: '', sizeGB: 8, parents }],
    ['sizeGB', { dir: '/abs', sizeGB: 0, parents }],
    ['sizeGB', { dir: '/abs', sizeGB: 1025, parents }],
    ['sizeGB', { dir: '/abs', sizeGB: 1.5, parents }],
    ['sizeGB', { dir: '/abs', sizeGB: '8', parents }],
    ['parents', { dir: '/abs', sizeGB: 8 }],
    ['parents[1].id', { dir: '/abs', sizeGB: 8, parents: [app, { id: '{bad}', path: '/x' }] }],
    ['parents[0].path', { dir: '/abs', sizeGB: 8, parents: [{ id: app.id, path: 'layers\\app' }] }],
  ])('rejects a bad %s before touching anything', async (field, options) => {
    const error = await createScratchLayer(options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    expect(fake.calls).toEqual([]);
    expect(freeSpace).not.toHaveBeenCalled();
  });

  it('refuses with InsufficientSpaceError when the volume has less free space than sizeGB', async () => {
    vi.mocked(freeSpace).mockResolvedValueOnce({ volume: 'D:\\', freeBytes: 5 * 2 ** 30 });
    const error = await createScratchLayer({ dir, sizeGB: 10, parents }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientSpaceError);
    expect(error).toMatchObject({
      code: 'INSUFFICIENT_SPACE',
      volume: 'D:\\',
      freeBytes: 5 * 2 ** 30,
      requestedBytes: 10 * 2 ** 30,
    });
    expect((error as Error).message).toMatch(/D:\\.*5\.4 GB free.*11 GB requested/);
    expect(vi.mocked(freeSpace).mock.calls[0]![0]).toBe(dir);
    expect(fake.calls).toEqual([]);
    expectNothingLeft();
  });

  it('refuses a folder that already holds a scratch disk', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'sandbox.vhdx'), 'existing');
    await expect(createScratchLayer({ dir, sizeGB: 8, parents })).rejects.toBeInstanceOf(
      ScratchLayerStateError,
    );
    expect(fake.calls).toEqual([]);
  });
});

describe('unmount, mount again, destroy', () => {
  async function created(): Promise<ScratchLayer> {
    const layer = await createScratchLayer({ dir, sizeGB: 8, parents });
    fake.calls.length = 0;
    return layer;
  }

  it('unmount detaches the filter, then the disk, then closes the handle; the disk file stays', async () => {
    const layer = await created();
    await unmountScratchLayer(layer);
    expect(fake.sequence()).toEqual(['HcsDetachLayerStorageFilter', 'DetachVirtualDisk', 'CloseHandle']);
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
    expect(existsSync(layer.vhdxPath)).toBe(true);
    expect(mountedScratchLayers()).toEqual([]);
    await unmountScratchLayer(layer); // idempotent
    expect(fake.calls).toHaveLength(3);
  });

  it('unmount still closes the handle when a step fails, and reports the first failure', async () => {
    const layer = await created();
    fake.fail('HcsDetachLayerStorageFilter', 0x80070490 | 0); // ERROR_NOT_FOUND: no retry gets past it
    await expect(unmountScratchLayer(layer)).rejects.toMatchObject({
      operation: 'HcsDetachLayerStorageFilter',
    });
    expect(fake.sequence()).toEqual(['HcsDetachLayerStorageFilter', 'DetachVirtualDisk', 'CloseHandle']);
    expect(fake.ledger().liveHandles).toBe(0);
  });

  it('mount re-opens a persistent layer without initialising it again', async () => {
    const first = await created();
    await unmountScratchLayer(first);
    fake.calls.length = 0;
    const again = await mountScratchLayer(dir, parents);
    expect(fake.sequence()).toEqual([
      'OpenVirtualDisk',
      'AttachVirtualDisk',
      'HcsGetLayerVhdMountPath',
      'HcsAttachLayerStorageFilter',
    ]);
    expect(again.vhdxPath).toBe(first.vhdxPath);
    expect(fake.ledger()).toMatchObject({ liveHandles: 1, attachedFilters: [again.volumePath] });
    await expect(mountScratchLayer(dir, parents)).rejects.toBeInstanceOf(ScratchLayerStateError);
  });

  const MOUNT_STEPS = [
    'OpenVirtualDisk',
    'AttachVirtualDisk',
    'HcsGetLayerVhdMountPath',
    'HcsAttachLayerStorageFilter',
  ];
  it.each(MOUNT_STEPS)('a failure of %s while mounting is undone and keeps the disk file', async (step) => {
    await unmountScratchLayer(await created());
    fake.fail(step, step.startsWith('Hcs') ? 0x80004005 | 0 : 1);
    await expect(mountScratchLayer(dir, parents)).rejects.toMatchObject({ operation: step });
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
    expect(readdirSync(dir)).toEqual(['sandbox.vhdx']);
    expect(mountedScratchLayers()).toEqual([]);
  });

  it('mount refuses a folder without a scratch disk', async () => {
    await expect(mountScratchLayer(dir, parents)).rejects.toBeInstanceOf(ScratchLayerStateError);
    await expect(mountScratchLayer('relative', parents)).rejects.toMatchObject({ field: 'dir' });
  });

  it('destroy unmounts a mounted layer, then HcsDestroyLayer removes the folder', async () => {
    await created();
    await destroyScratchLayer(dir);
    expect(fake.sequence()).toEqual([
      'HcsDetachLayerStorageFilter',
      'DetachVirtualDisk',
      'CloseHandle',
      'HcsDestroyLayer',
    ]);
    expectLayerGone();
  });

  it('destroy of an unmounted layer just deletes it; destroying twice is fine', async () => {
    await unmountScratchLayer(await created());
    fake.calls.length = 0;
    await destroyScratchLayer(dir);
    await destroyScratchLayer(dir);
    expect(fake.sequence()).toEqual([
      'OpenVirtualDisk',
      'HcsGetLayerVhdMountPath',
      'CloseHandle',
      'HcsDestroyLayer',
      'HcsDestroyLayer',
    ]);
    expectLayerGone();
  });

  it('destroy detaches a disk another (crashed) process left attached', async () => {
    mkdirSync(dir, { recursive: true });
    const vhdx = join(dir, 'sandbox.vhdx');
    const disk = await fake.virtDisk.createVirtualDisk(vhdx, { maximumSizeBytes: 1n });
    await fake.virtDisk.attachVirtualDisk(disk.handle!, 4);
    const mount = await fake.storage.getLayerVhdMountPath(disk.handle!);
    await fake.storage.attachLayerStorageFilter(mount.path!, '{}');
    fake.processExited();
    fake.calls.length = 0;
    await destroyScratchLayer(dir);
    expect(fake.sequence()).toEqual([
      'OpenVirtualDisk',
      'HcsGetLayerVhdMountPath',
      'HcsDetachLayerStorageFilter',
      'DetachVirtualDisk',
      'CloseHandle',
      'HcsDestroyLayer',
    ]);
    expectLayerGone();
  });

  function expectLayerGone(): void {
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
    expect(existsSync(dir)).toBe(false);
  }
});
