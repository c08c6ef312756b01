import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newInstance, repo, runOk } from './harness.js';

// The product's storage layer (dist/storage) in node.exe under Wine, against
// the simulated computestorage.dll and virtdisk.dll in the prefix's system32.
// Each test gets its own work folder and its own simulated storage root
// (HCSSIM_STORAGE_ROOT, where attached disks keep their volume folders), so
// a scan of both after the run proves what was left behind.

interface StorageAudit {
  VirtualDiskHandles: { Opened: number; Live: number };
  Strings: { Allocated: number; Live: number };
  AttachedDisks: string[];
  AttachedFilters: string[];
  Violations: string[];
}

interface ErrorInfo {
  name?: string;
  code?: string;
  message?: string;
  operation?: string;
  hresultHex?: string;
  field?: string;
  volume?: string;
  freeBytes?: number;
  requestedBytes?: number;
  undoFailures?: string[];
}

const haveSimulatedStorage = existsSync(join(repo, 'test-host', 'sim', 'computestorage.c'));

let work: string;
let storageRoot: string;

/** The Windows path Wine gives a Linux path (drive Z: is the Linux root). */
function winPath(path: string): string {
  return `Z:${path.replaceAll('/', '\\')}`;
}

/** Every file and folder under `dir`, relative, sorted. */
function scan(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      out.push(relative(dir, full));
      if (statSync(full).isDirectory()) walk(full);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

function expectClean(audit: StorageAudit): void {
  expect(audit.Violations).toEqual([]);
  expect(audit.VirtualDiskHandles.Live).toBe(0);
  expect(audit.Strings.Live).toBe(0);
  expect(audit.AttachedDisks).toEqual([]);
  expect(audit.AttachedFilters).toEqual([]);
}

/** Nothing in the simulated storage root but empty bookkeeping folders. */
function expectNoVolumesLeft(): void {
  const left = scan(storageRoot).filter((p) => /^(volumes|disks)[\\/]./.test(p));
  expect(left).toEqual([]);
}

function run<R>(script: string): Promise<R> {
  return runOk<R>(script, [winPath(work)], {
    instance: newInstance('st'),
    env: { HCSSIM_STORAGE_ROOT: winPath(storageRoot) },
    timeoutMs: 120_000,
  });
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'hcs-storage-work-'));
  storageRoot = mkdtempSync(join(tmpdir(), 'hcs-storage-root-'));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(storageRoot, { recursive: true, force: true });
});

describe.runIf(haveSimulatedStorage)('scratch layers through the product', () => {
  it('creates, unmounts, mounts again (data persisted), exports, imports and destroys, leaving nothing', async () => {
    const r = await run<{
      baseFiles: string[];
      layer: { dir: string; vhdxPath: string; volumePath: string; parents: { id: string; path: string }[] };
      phases: string[];
      volumeExists: boolean;
      diskInfo: Record<string, unknown>;
      scratchSize: number;
      audits: { mounted: StorageAudit; unmounted: StorageAudit; end: StorageAudit };
      dirAfterUnmount: string[];
      remounted: { volumePath: string };
      persisted: string;
      exportedFiles: string[];
      appFiles: string[];
      dirExistsAfterDestroy: boolean;
      layersLeft: string[];
    }>('storage-flow.mjs');

    expect(r.baseFiles).toContain('Windows\\base.txt');
    expect(r.layer.vhdxPath).toBe(`${r.layer.dir}\\sandbox.vhdx`);
    expect(r.layer.parents).toHaveLength(1);
    expect(r.layer.parents[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.phases).toEqual([
      'create-disk',
      'format',
      'attach',
      'mount-path',
      'initialize',
      'attach-filter',
    ]);
    expect(r.volumeExists).toBe(true);
    expect(r.diskInfo).toMatchObject({
      Type: 'VHDX',
      MaximumSize: 2 ** 30,
      BlockSizeInBytes: 1024 * 1024,
      SectorSizeInBytes: 512,
      ParentPath: null,
      Formatted: true,
      Attached: true,
      AttachFlags: 2 | 4, // NO_DRIVE_LETTER | PERMANENT_LIFETIME
    });
    expect(r.scratchSize).toBeGreaterThan(0);

    // Mounted: one open disk handle, the disk and the filter attached; the mount-path string was freed.
    expect(r.audits.mounted.VirtualDiskHandles.Live).toBe(1);
    expect(r.audits.mounted.AttachedDisks).toHaveLength(1);
    expect(r.audits.mounted.AttachedFilters).toHaveLength(1);
    expect(r.audits.mounted.Strings).toMatchObject({ Live: 0 });
    expect(r.audits.mounted.Strings.Allocated).toBeGreaterThan(0);
    expectClean(r.audits.unmounted);
    expect(r.dirAfterUnmount).toEqual(['sandbox.vhdx']);

    expect(r.persisted).toBe('written in the sandbox');
    expect(r.exportedFiles).toContain('Files\\written.txt');
    expect(r.appFiles).toContain('written.txt');

    expect(r.dirExistsAfterDestroy).toBe(false);
    expect(r.layersLeft).toEqual([]);
    expectClean(r.audits.end);
    expect(scan(join(work, 'sandboxes'))).toEqual([]);
    expectNoVolumesLeft();
  });

  it('a fault at every step of create and of mount is rolled back: audit clean, folders empty', async () => {
    const r = await run<{
      create: Record<string, { error?: ErrorInfo; dirExists: boolean; audit: StorageAudit }>;
      mount: Record<string, { error?: ErrorInfo; dirContents: string[]; audit: StorageAudit }>;
      rollback?: ErrorInfo & { cause: ErrorInfo };
      leakAudit: StorageAudit;
      leakyExistsAfterDestroy: boolean;
      end: StorageAudit;
      sandboxesLeft: string[];
    }>('storage-faults.mjs');

    expect(Object.keys(r.create)).toHaveLength(6);
    for (const [step, outcome] of Object.entries(r.create)) {
      expect(outcome.error, step).toMatchObject({
        name: 'HcsError',
        operation: step,
        hresultHex: '0x80070015',
      });
      expect(outcome.dirExists, step).toBe(false);
      expectClean(outcome.audit);
    }
    expect(Object.keys(r.mount)).toHaveLength(4);
    for (const [step, outcome] of Object.entries(r.mount)) {
      expect(outcome.error, step).toMatchObject({
        name: 'HcsError',
        operation: step,
        hresultHex: '0x80070015',
      });
      expect(outcome.dirContents, step).toEqual(['sandbox.vhdx']);
      expectClean(outcome.audit);
    }

    // A failing undo: the original failure is the cause; the disk it could not detach is named.
    expect(r.rollback).toMatchObject({ name: 'RollbackError', code: 'ROLLBACK_FAILED' });
    expect(r.rollback!.cause).toMatchObject({ operation: 'HcsAttachLayerStorageFilter' });
    expect(r.rollback!.undoFailures).toEqual(['AttachVirtualDisk']);
    expect(r.leakAudit.AttachedDisks).toHaveLength(1);
    expect(r.leakAudit.VirtualDiskHandles.Live).toBe(0);
    expect(r.leakyExistsAfterDestroy).toBe(false);

    expectClean(r.end);
    expect(r.sandboxesLeft).toEqual([]);
    expect(scan(join(work, 'layers'))).toEqual([]);
    expectNoVolumesLeft();
  });

  it('normalises a mount path without its backslash, and retries a detach the filter refuses (sim knobs)', async () => {
    const r = await runOk<{
      config: { MountPathTrailingBackslash: boolean };
      volumePath: string;
      mounted: StorageAudit;
      refusedThenOk: { ok: boolean; error?: ErrorInfo };
      afterRetry: { DetachRefusals: number };
      unmounted: StorageAudit;
      givenUp: ErrorInfo | undefined;
      left: number;
    }>('storage-volume.mjs', [winPath(work)], {
      instance: newInstance('st'),
      // The documented 10 tries, 20 ms apart instead of 1 s.
      env: { HCSSIM_STORAGE_ROOT: winPath(storageRoot), HCS_SANDBOX_DETACH_INTERVAL_MS: '20' },
      timeoutMs: 120_000,
    });
    expect(r.config.MountPathTrailingBackslash).toBe(false);
    expect(r.volumePath.endsWith('\\')).toBe(true);
    expect(r.mounted.AttachedFilters).toHaveLength(1);
    expect(r.refusedThenOk).toEqual({ ok: true });
    expect(r.afterRetry.DetachRefusals).toBe(0);
    expectClean(r.unmounted);
    expect(r.givenUp).toMatchObject({ operation: 'HcsDetachLayerStorageFilter', hresultHex: '0x800700AA' });
    expect(r.left).toBe(90); // refused 10 times: the product's DETACH_RETRY.attempts
  });

  it('refuses a scratch disk bigger than the free space, and bad input, before any native call', async () => {
    const r = await run<{
      space: { error?: ErrorInfo; dirExists: boolean };
      free: { volume: string; freeBytes: number };
      relative: { error?: ErrorInfo };
      size: { error?: ErrorInfo };
      badId: { error?: ErrorInfo };
      audit: StorageAudit;
    }>('storage-space.mjs');
    expect(r.free.freeBytes).toBeGreaterThan(0);
    expect(r.free.freeBytes).toBeLessThan(1024 * 2 ** 30); // the refusal below depends on it
    expect(r.space.error).toMatchObject({
      name: 'InsufficientSpaceError',
      code: 'INSUFFICIENT_SPACE',
      volume: r.free.volume,
      requestedBytes: 1024 * 2 ** 30,
    });
    expect(r.space.error!.freeBytes).toBeGreaterThan(0);
    expect(r.space.error!.message).toContain(r.free.volume);
    expect(r.space.dirExists).toBe(false);
    expect(r.relative.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'dir' });
    expect(r.size.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'sizeGB' });
    expect(r.badId.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'parents[0].id' });
    expect(r.audit.VirtualDiskHandles.Opened).toBe(0);
    expectClean(r.audit);
  });
});
