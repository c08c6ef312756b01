import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setSecurityBindings, setStorageBindings } from '../../../src/native/index.js';
import { DETACH_RETRY, detachRetry } from '../../../src/storage/filter-detach.js';
import {
  createScratchLayer,
  destroyScratchLayer,
  mountedScratchLayer,
  mountedScratchLayers,
  unmountScratchLayer,
} from '../../../src/storage/scratch.js';
import { FakeStorage } from '../../support/fake-storage.js';

// Volume paths (issue 12 item 8) and the storage filter detach that a real
// filter refuses for a few seconds after its container stopped (item 9).

vi.mock('../../../src/storage/space.js', () => ({
  freeSpace: vi.fn(async () => ({ volume: 'C:\\', freeBytes: 2 ** 50 })),
}));

const base = { id: '0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b', path: '/layers/base' };
const parents = [base];
/** What the simulated host answers for a refused detach (GUESS: the real HRESULT was not recorded). */
const REFUSED = 0x800700aa | 0; // HRESULT_FROM_WIN32(ERROR_BUSY)
const DETACH = 'HcsDetachLayerStorageFilter';

let fake: FakeStorage;
let root: string;
let dir: string;

function use(storage: FakeStorage): void {
  fake = storage;
  setStorageBindings(fake);
  // Storage calls check the token first (elevation, privileges): the fake's is elevated.
  setSecurityBindings(fake.security);
}

beforeEach(() => {
  use(new FakeStorage());
  root = mkdtempSync(join(tmpdir(), 'hcs-scratch-volume-'));
  dir = join(root, 'sb1');
  // Keep the documented count, shorten the wait.
  vi.stubEnv('HCS_SANDBOX_DETACH_INTERVAL_MS', '1');
});

afterEach(async () => {
  for (const layer of mountedScratchLayers()) await unmountScratchLayer(layer).catch(() => {});
  setStorageBindings(undefined);
  setSecurityBindings(undefined);
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

describe('the volume path', () => {
  it('gets its trailing backslash when HcsGetLayerVhdMountPath returns it without one', async () => {
    use(new FakeStorage({ trailingSeparator: false }));
    const layer = await createScratchLayer({ dir, sizeGB: 1, parents });
    expect(layer.volumePath).toBe('\\\\?\\Volume{fake-1}\\');
    const init = fake.calls.find((c) => c.fn === 'HcsInitializeWritableLayer');
    const filter = fake.calls.find((c) => c.fn === 'HcsAttachLayerStorageFilter');
    expect(init?.args[0]).toBe(layer.volumePath);
    expect(filter?.args[0]).toBe(layer.volumePath);
    await unmountScratchLayer(layer);
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
  });

  it('keeps a path that already ends with one as it is', async () => {
    const layer = await createScratchLayer({ dir, sizeGB: 1, parents });
    expect(layer.volumePath).toBe('\\\\?\\Volume{fake-1}\\');
  });

  it('mountedScratchLayer answers from this process, whatever the volume path looks like', async () => {
    expect(mountedScratchLayer(dir)).toBeUndefined();
    const layer = await createScratchLayer({ dir, sizeGB: 1, parents });
    expect(mountedScratchLayer(dir)).toBe(layer);
    expect(mountedScratchLayer(`${dir}/`)).toBe(layer);
    await unmountScratchLayer(layer);
    expect(mountedScratchLayer(dir)).toBeUndefined();
  });
});

describe('the storage filter detach', () => {
  it('defaults to about 10 tries 1 s apart, which the environment can change', () => {
    expect(DETACH_RETRY).toEqual({ attempts: 10, intervalMs: 1000 });
    expect(detachRetry({})).toEqual({ attempts: 10, intervalMs: 1000 });
    expect(detachRetry({ HCS_SANDBOX_DETACH_ATTEMPTS: '3', HCS_SANDBOX_DETACH_INTERVAL_MS: '0' })).toEqual({
      attempts: 3,
      intervalMs: 0,
    });
    // Nonsense falls back to the default rather than to no retry at all.
    expect(detachRetry({ HCS_SANDBOX_DETACH_ATTEMPTS: '0', HCS_SANDBOX_DETACH_INTERVAL_MS: '-1' })).toEqual(
      DETACH_RETRY,
    );
  });

  it('unmount retries a refused detach until the filter lets go', async () => {
    const layer = await createScratchLayer({ dir, sizeGB: 1, parents });
    fake.calls.length = 0;
    fake.refuse(DETACH, REFUSED, 4);
    await unmountScratchLayer(layer);
    expect(fake.sequence()).toEqual([...Array(5).fill(DETACH), 'DetachVirtualDisk', 'CloseHandle']);
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
  });

  it('gives up after the configured number of tries and reports the refusal', async () => {
    vi.stubEnv('HCS_SANDBOX_DETACH_ATTEMPTS', '3');
    const layer = await createScratchLayer({ dir, sizeGB: 1, parents });
    fake.calls.length = 0;
    fake.refuse(DETACH, REFUSED, 5);
    await expect(unmountScratchLayer(layer)).rejects.toMatchObject({
      operation: DETACH,
      hresult: REFUSED >>> 0,
    });
    expect(fake.sequence().filter((f) => f === DETACH)).toHaveLength(3);
    expect(fake.ledger().liveHandles).toBe(0);
  });

  it('does not retry a detach that found nothing to detach', async () => {
    const layer = await createScratchLayer({ dir, sizeGB: 1, parents });
    fake.calls.length = 0;
    fake.fail(DETACH, 0x80070490 | 0); // ERROR_NOT_FOUND
    await expect(unmountScratchLayer(layer)).rejects.toMatchObject({ operation: DETACH });
    expect(fake.sequence()).toEqual([DETACH, 'DetachVirtualDisk', 'CloseHandle']);
  });

  it('destroy retries the detach of a layer another process left mounted (rm right after stop)', async () => {
    mkdirSync(dir, { recursive: true });
    const disk = await fake.virtDisk.createVirtualDisk(join(dir, 'sandbox.vhdx'), { maximumSizeBytes: 1n });
    await fake.virtDisk.attachVirtualDisk(disk.handle!, 4);
    const mount = await fake.storage.getLayerVhdMountPath(disk.handle!);
    await fake.storage.attachLayerStorageFilter(mount.path!, '{}');
    fake.processExited();
    fake.calls.length = 0;
    fake.refuse(DETACH, REFUSED, 2);
    await destroyScratchLayer(dir);
    expect(fake.sequence().filter((f) => f === DETACH)).toHaveLength(3);
    expect(fake.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
  });
});
