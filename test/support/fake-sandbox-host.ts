import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { setPackagedAgentDir } from '../../src/internal/packaged-agent.js';
import { setFileSecurityBindings, setSecurityBindings, setStorageBindings } from '../../src/native/index.js';
import type * as Schema from '../../src/schema/index.js';
import {
  layerRef,
  mountedScratchLayers,
  OwnImageSource,
  unmountScratchLayer,
  VmImageStore,
} from '../../src/storage/index.js';
// The one place the sandbox tests reach into native/: fix this import if native/ moves.
import { FakeFileSecurity } from './fake-file-security.js';
import { type FakeHcsContext, useFakeHcs } from './fake-harness.js';
import { FakeStorage } from './fake-storage.js';

/**
 * A whole fake host for `Sandbox`, `collectGarbage` and friends: the fake HCS
 * (with its leak check), the fake computestorage/virtdisk, and a temporary
 * `home` holding hcs-sandbox's own image store and sandbox records. Sandboxes
 * made here must use `network: 'none'` (there is no fake HCN).
 */
export interface FakeSandboxHost {
  readonly hcs: FakeHcsContext;
  readonly storage: FakeStorage;
  /** The temporary state root (`home` option). */
  readonly home: string;
  /** Seeds `local/base:1` (with a utility VM for Hyper-V isolation) in the own image store; returns its reference. */
  seedImage(options?: { utilityVm?: boolean }): Promise<string>;
  /** Seeds the ready VM image `win` (a base.vhdx made through the fake virtdisk) in the VM image store. */
  /** A ready VM image carrying the guest agent (unless `agent: false`, as `--no-agent` builds it). */
  seedVmImage(name?: string, options?: { agent?: boolean }): Promise<string>;
  recordPath(name: string): string;
  scratchDir(name: string): string;
  /** No record, no scratch folder, no compute system, no disk handle, attachment or filter. */
  expectNothingLeft(name: string): void;
}

export const IMAGE = 'local/base:1';
export const VM_IMAGE = 'win';

export function useFakeSandboxHost(): FakeSandboxHost {
  const hcs = useFakeHcs();
  let storage: FakeStorage | undefined;
  let root: string | undefined;
  let home: string | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hcs-sandbox-unit-'));
    home = join(root, 'home');
    // Only its owner can reach it, as hcs-sandbox makes a store root (a looser one is refused or tightened).
    mkdirSync(home, { mode: 0o700 });
    // Volumes outside home, so nothing there looks like a sandbox's files.
    storage = new FakeStorage({ volumeRoot: join(root, 'volumes') });
    setStorageBindings(storage);
    setSecurityBindings(storage.security);
    setFileSecurityBindings(new FakeFileSecurity());
    // Whether this checkout built dist/agent must not change what a test sees: no packaged
    // relay unless a test names one (HCS_SANDBOX_AGENT_RELAY or setPackagedAgentDir).
    setPackagedAgentDir(join(root, 'no-packaged-agent'));
  });
  afterEach(async () => {
    // A failed test may leave a layer mounted in this process's table: forget it before the next test.
    for (const layer of mountedScratchLayers()) await unmountScratchLayer(layer).catch(() => {});
    setStorageBindings(undefined);
    setSecurityBindings(undefined);
    setFileSecurityBindings(undefined);
    setPackagedAgentDir(undefined);
    if (root) rmSync(root, { recursive: true, force: true });
    storage = undefined;
    root = undefined;
    home = undefined;
  });
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useFakeSandboxHost: no ${what} outside a test`);
    return value;
  };
  const host: FakeSandboxHost = {
    hcs,
    get storage() {
      return need(storage, 'storage');
    },
    get home() {
      return need(home, 'home');
    },
    async seedImage(options = {}) {
      const store = new OwnImageSource({ root: host.home });
      const layerDir = store.layerDir('a'.repeat(64));
      mkdirSync(join(layerDir, 'Files'), { recursive: true });
      if (options.utilityVm) {
        mkdirSync(join(layerDir, 'UtilityVM', 'Files'), { recursive: true });
        writeFileSync(join(layerDir, 'UtilityVM', 'SystemTemplate.vhdx'), 'template');
      }
      await store.addImage({
        reference: IMAGE,
        id: `sha256:${'b'.repeat(64)}`,
        source: 'hcs-sandbox',
        os: 'windows',
        osVersion: '10.0.20348.1',
        build: 20348,
        layers: [layerRef(layerDir)],
      });
      return IMAGE;
    },
    async seedVmImage(name = VM_IMAGE, options: { agent?: boolean } = {}) {
      const store = new VmImageStore({ root: host.home });
      await store.begin(name, { kind: 'wim', path: 'C:\\media\\install.wim', index: 1 });
      writeFileSync(store.pathsOf(name).vhdx, 'fake base vhdx\n');
      const agent = {
        from: 'C:\\hcs\\dist\\agent\\agent.exe',
        stagedBy: '0.1.0',
        stagedAt: '2026-12-07T00:00:00Z',
      };
      await store.finish(name, {
        sizeBytes: 15,
        build: 26100,
        edition: 'Professional',
        ...(options.agent !== false && { agent }),
      });
      return name;
    },
    recordPath: (name) => join(host.home, 'sandboxes', `${name}.json`),
    scratchDir: (name) => join(host.home, 'scratch', name),
    expectNothingLeft(name) {
      expect(existsSync(host.recordPath(name)), 'record file').toBe(false);
      expect(existsSync(host.scratchDir(name)), 'scratch folder').toBe(false);
      expect(hcs.fake.systemIds(), 'compute systems').toEqual([]);
      expect(host.storage.ledger()).toMatchObject({ liveHandles: 0, attachedDisks: [], attachedFilters: [] });
    },
  };
  return host;
}

/** `/tmp/x/y` as the Windows path the schema builders take (`C:\tmp\x\y`). */
export function windowsPath(path: string): string {
  return `C:${path.replaceAll('/', '\\')}`;
}

function withWindowsPaths<T>(value: T): T {
  if (typeof value === 'string') return (value.startsWith('/') ? windowsPath(value) : value) as T;
  if (Array.isArray(value)) return value.map(withWindowsPaths) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withWindowsPaths(v)])) as T;
  }
  return value;
}

/**
 * The schema module with its document builders taking POSIX host paths: the
 * builders accept Windows paths only (they describe a Windows host), while
 * the temporary home of a unit test on Linux is POSIX. Every absolute POSIX
 * path given to them becomes `C:\...` (see {@link windowsPath}); the rest is
 * the real module. Use in a test file as
 * `vi.mock('../../../src/schema/index.js', async (original) => (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()))`.
 */
export function schemaWithWindowsPaths(original: typeof Schema): typeof Schema {
  return {
    ...original,
    buildProcessContainer: (options) => original.buildProcessContainer(withWindowsPaths(options)),
    buildHypervContainer: (options) => original.buildHypervContainer(withWindowsPaths(options)),
    buildDiskBootVm: (options) => original.buildDiskBootVm(withWindowsPaths(options)),
    addMappedDirectoryRequest: (options) => original.addMappedDirectoryRequest(withWindowsPaths(options)),
  };
}
