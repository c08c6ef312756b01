import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as hcs from '../../src/hcs/index.js';
import * as root from '../../src/index.js';
import * as jobs from '../../src/jobs/index.js';
import * as network from '../../src/network/index.js';
import * as schema from '../../src/schema/index.js';
import * as storage from '../../src/storage/index.js';

/**
 * The package's public surface. The root entry is the Sandbox API, named one by
 * one; the layers underneath are subpath entries. Adding a root export is a
 * decision: add its name here (one sorted list) in the same change.
 */
const ROOT_EXPORTS = [
  'AgentConnectionClosedError',
  'AgentNotReadyError',
  'AgentProtocolError',
  'AgentRequestError',
  'CommandExitError',
  'CommandHandle',
  'CommitUnavailableError',
  'ConflictError',
  'FunctionUnavailableError',
  'GuestAgentRequiredError',
  'HandleClosedError',
  'HcsError',
  'HcsSandboxError',
  'HcsUnavailableError',
  'ImageCompatibilityError',
  'ImageNotFoundError',
  'InsufficientSpaceError',
  'InvalidArgumentError',
  'InvalidStateError',
  'LimitUpdateUnsupportedError',
  'NetworkNotFoundError',
  'NotFoundError',
  'NotOwnedError',
  'PortConflictError',
  'RegistryError',
  'SANDBOX_ISOLATIONS',
  'Sandbox',
  'SandboxBusyError',
  'SandboxExistsError',
  'SandboxFiles',
  'SandboxFilesUnavailableError',
  'SandboxNotFoundError',
  'SandboxNotRunningError',
  'SandboxNotVmError',
  'SandboxPathLinkError',
  'SandboxPathNotFoundError',
  'SandboxPathNotRemovableError',
  'SandboxRunningError',
  'StateCorruptError',
  'TimeoutError',
  'UnavailableError',
  'ViewPortInUseError',
  'ViewerLaunchError',
  'VmImageInUseError',
  'WsbError',
  'collectGarbage',
  'defaultReportPath',
  'defaultStateRoot',
  'formatBytes',
  'parseWsb',
  'probeItems',
  'probeSummary',
  'readWsbFile',
  'removeVmImage',
  'runDoctor',
  'runProbe',
  'viewVirtualMachine',
  'writeProbeReport',
  'wsbToSandboxOptions',
];

/** Subpath entries: `hcs-sandbox/<layer>`, each a layer's index module. */
const LAYER_ENTRIES: Record<string, object> = { hcs, jobs, network, schema, storage };
const LAYERS = Object.keys(LAYER_ENTRIES);

const repo = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; import: string }>;
};

describe('public surface', () => {
  it('the root entry exports exactly the pinned names', () => {
    expect(Object.keys(root).sort()).toEqual(ROOT_EXPORTS);
  });

  it('the root entry names its exports one by one (no export *)', () => {
    const source = readFileSync(join(repo, 'src', 'index.ts'), 'utf8');
    expect(source).not.toMatch(/export\s+(type\s+)?\*/);
  });

  it('package.json exports the root, each layer, and nothing internal', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual(
      ['.', './package.json', ...LAYERS.map((layer) => `./${layer}`)].sort(),
    );
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    for (const layer of LAYERS) {
      expect(pkg.exports[`./${layer}`]).toEqual({
        types: `./dist/${layer}/index.d.ts`,
        import: `./dist/${layer}/index.js`,
      });
    }
  });

  it.each(LAYERS)('hcs-sandbox/%s is a layer index with exports', (layer) => {
    expect(existsSync(join(repo, 'src', layer, 'index.ts'))).toBe(true);
    expect(Object.keys(LAYER_ENTRIES[layer]!).length).toBeGreaterThan(0);
  });
});
