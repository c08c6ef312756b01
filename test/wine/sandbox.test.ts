import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoLeaks, type SimAudit } from './audit.js';
import { newInstance, runOk, winePath } from './harness.js';

const homes: string[] = [];
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hcs-sbx-'));
  homes.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('Sandbox SDK (process isolation, simulated host)', () => {
  it('creates, runs commands, moves files, keeps a persistent one across stop/start, and removes', async () => {
    const dir = home();
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('sandbox-sdk.mjs', [], {
      instance: newInstance('sbx'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    });
    expect(r.created.idPrefix).toBe(true);
    expect(r.run).toEqual({ exitCode: 0, stdout: 'hi from the sandbox' });
    expect(r.exitError).toBe(5);
    expect(r.fileBack).toBe('hello files');
    expect(r.info).toEqual({
      status: 'running',
      isolation: 'process',
      image: 'docker.io/local/base:1',
      memoryMB: 512,
    });
    expect(r.listed).toEqual([[r.created.name, 'running']]);
    expect(r.afterDispose).toBe(0);
    expect(r.openGone).toBe(true);
    expect(r.stoppedStatus).toBe('stopped');
    expect(r.kept).toBe('kept');
    expect(r.reopenedRun).toBe('again');
    expect(r.scratchLeft).toEqual([]);
    expect(r.recordsLeft).toBe(0);
    expect(r.badMemory).toEqual(['InvalidArgumentError', 'memoryMB']);
    expect(r.badIsolation).toEqual(['InvalidArgumentError', 'isolation']);
    expect(r.missingImage).toBe('ImageNotFoundError');
    expectNoLeaks(r.audit as SimAudit);
  });
});

describe('crash recovery and ownership', () => {
  it('gc removes what a crashed creator left, and never touches a system that is not ours', async () => {
    const dir = home();
    const options = {
      instance: newInstance('gc'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    };
    const crashed = await runOk<{ name: string; id: string }>('sandbox-crash.mjs', ['doomed'], options);
    expect(crashed.name).toBe('doomed');
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('sandbox-gc.mjs', [], options);
    expect(r.listedBefore).toEqual([['doomed', 'stopped']]);
    expect(r.dryRun).toEqual(
      expect.arrayContaining([
        ['compute-system', false],
        ['writable-layer', false],
        ['state-record', false],
      ]),
    );
    expect(r.gc).toEqual(
      expect.arrayContaining([
        ['compute-system', true, null],
        ['writable-layer', true, null],
        ['state-record', true, null],
        ['network-endpoint', true, null],
        ['network-namespace', true, null],
      ]),
    );
    expect(r.gc).toHaveLength(5);
    expect(r.again).toBe(0);
    expect(r.recordsLeft).toBe(0);
    expect(r.scratchLeft).toEqual([]);
    expect(r.systemsLeft).toEqual(['docker-4f2a']);
    expect(r.refused).toBe('docker');
    expect(r.forcedKill).toEqual([]);
  });
});

describe('many sandboxes at once', () => {
  it('20 sandboxes created, exec’d and removed concurrently from one process, nothing lost or crossed', async () => {
    const dir = home();
    const r = await runOk<{ count: number; crossed: string[]; left: number }>(
      'sandbox-many.mjs',
      ['20', 'one'],
      {
        instance: newInstance('many'),
        env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
        timeoutMs: 300_000,
      },
    );
    expect(r).toMatchObject({ count: 20, crossed: [], left: 0 });
  }, 300_000);

  it('4 processes × 5 sandboxes at once on one state store and host, nothing lost or crossed', async () => {
    const dir = home();
    const options = {
      instance: newInstance('multi'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
      timeoutMs: 300_000,
    };
    const runs = await Promise.all(
      ['a', 'b', 'c', 'd'].map((tag) =>
        runOk<{ count: number; crossed: string[]; left: number }>('sandbox-many.mjs', ['5', tag], options),
      ),
    );
    for (const r of runs) expect(r).toMatchObject({ count: 5, crossed: [], left: 0 });
  }, 300_000);
});

describe('Hyper-V isolation (documents and order; the simulated host boots nothing)', () => {
  it('starts a utility VM (disks granted, network plugged in), hosts the container in it, removes both; falls back to SCSI key 0', async () => {
    const dir = home();
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('sandbox-hyperv.mjs', [], {
      instance: newInstance('hv'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    });
    expect(r.refused).toEqual(['InvalidArgumentError', 'image']);
    expect(r.systems).toEqual([
      ['hcssb-hv-X', 'Container', 'Running'],
      ['hcssb-hv-X-uvm', 'VirtualMachine', 'Running'],
    ]);
    expect(r.uvmModifyRequests).toBeGreaterThan(0);
    expect(r.hostingSystem).toBe(true);
    expect(r.uvmStorageQoS).toEqual({ IopsMaximum: 500 });
    // Issue 12 item 5: the VM's disks granted to it (the simulated host refuses the create otherwise).
    expect(r.grants).toEqual([
      ['GrantVmAccess', 'uvm.vhdx'],
      ['GrantVmAccess', 'sandbox.vhdx'],
    ]);
    // Item 6: the guest namespace and the NIC before the container (refused otherwise).
    expect(r.network).toEqual(['namespace', 'guest PreAdd', 'adapter']);
    expect(r.run).toBe('inside hyperv');
    expect(r.info).toBe('hyperv');
    expect(r.files).toBe('FILES_UNAVAILABLE');
    expect(r.after).toBe(0);
    // Item 12: with GUID SCSI keys refused (knob), the utility VM boots again with key "0".
    expect(r.fallbackScsi).toEqual(['0']);
    expect(r.fallbackRun).toBe('again');
    expect(r.warnings).toEqual(['HCS_SANDBOX_SCSI_CONTROLLER_FALLBACK']);
    expectNoLeaks(r.audit as SimAudit);
  });
});

describe('sandbox networking', () => {
  it('nat with an address and published port, none, isolated; conflicts refused first; remove cleans up', async () => {
    const dir = home();
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('sandbox-network.mjs', [], {
      instance: newInstance('sbnet'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    });
    expect(r.nat).toEqual({ network: 'nat', ports: ['18480:80/tcp'], ip: true, inspectIp: true });
    expect(r.none).toEqual({ network: 'none', ip: null });
    expect(r.isolated).toBe('isolated');
    expect(r.conflict).toBe('PortConflictError');
    expect(r.afterConflict).toEqual(['iso', 'offline', 'web']);
    expect(r.badPort).toEqual(['PortMappingParseError', 'ports[0]']); // an InvalidArgumentError
    expect(r.badAllow).toEqual(['InvalidArgumentError', 'allow']);
    expect(r.networks).toContain('hcs-sandbox-nat');
    expect(r.endpointsLeft).toBeUndefined();
  });
});

describe('after a host restart', () => {
  it('a persistent nat sandbox gets its endpoint, namespace and network back at start, runs, and removes cleanly', async () => {
    const dir = home();
    const options = {
      instance: newInstance('sbrestart'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    };
    // biome-ignore lint/suspicious/noExplicitAny: untyped JSON results from the script
    type Json = Record<string, any>;
    const before = await runOk<Json>('sandbox-restart.mjs', ['create'], options);
    expect(before.hcn).toMatchObject({ holds: true, network: 'hcs-sandbox-nat' });
    const restart = await runOk<Json>('sandbox-restart.mjs', ['restart'], options);
    // The restart took the non-persistent default network with the endpoint and namespace on it.
    expect(restart.hcn.Networks).toHaveLength(1);
    expect(restart.hcn.Endpoints).toEqual([before.hcn.endpoint]);
    expect(restart.hcn.Namespaces).toEqual([before.hcn.namespace]);
    expect(restart.after).toEqual({ networks: [], endpoints: [], namespaces: 0 });
    expect(restart.systems).toEqual([]);
    const r = await runOk<Json>('sandbox-restart.mjs', ['start'], options);
    // start made them again, and the container joined the namespace that exists.
    expect(r.hcn).toMatchObject({ holds: true, network: 'hcs-sandbox-nat' });
    expect(r.hcn.namespace).not.toBeNull();
    expect(r.documentNamespace?.toLowerCase()).toBe(r.hcn.namespace.toLowerCase());
    expect(r.ip).toBe(before.ip);
    expect(r.ports).toEqual(['18490:80/tcp']);
    expect(r.status).toBe('running');
    expect(r.run).toBe('after the restart');
    expect(r.left).toEqual({
      hcn: { networks: ['hcs-sandbox-nat'], endpoints: [], namespaces: 0 },
      systems: [],
      sandboxes: [],
      attachedDisks: [],
    });
  });
});

describe('resource use and limits', () => {
  it('streams stats, lists processes, updates memory, and refuses two processor limits at once', async () => {
    const dir = home();
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('sandbox-stats.mjs', [], {
      instance: newInstance('stats'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    });
    expect(r.readings).toEqual([
      { name: 'busy', processes: 1, cpu: true, uptime: true },
      { name: 'busy', processes: 1, cpu: true, uptime: true },
      { name: 'busy', processes: 1, cpu: true, uptime: true },
    ]);
    // The simulated host reads the real ping.exe's working set through Wine.
    expect(r.workingSet).toBeGreaterThan(0);
    expect(r.top).toHaveLength(1);
    expect(r.top[0]).toMatch(/^ping(\.exe)?$/); // the simulated host names the image as the command line did
    expect(r.memoryAfterUpdate).toBe(1024);
    expect(r.badUpdate).toEqual(['InvalidArgumentError', 'cpuLimit']);
    expect(r.unsupportedClass).toBe('function');
    expect(r.processor).toEqual({ Weight: 300 });
    expect(r.storageQoS).toEqual({ IopsMaximum: 1000, BandwidthMaximum: 5_000_000 });
  });
});

describe('images from sandboxes', () => {
  it('commit exports a stopped sandbox’s writable layer as a new image that others start from', async () => {
    const dir = home();
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('sandbox-commit.mjs', [], {
      instance: newInstance('commit'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
    });
    expect(r.running).toEqual(['SandboxRunningError', 'SANDBOX_RUNNING', 'invalid-state']);
    expect(r.image).toEqual({ reference: 'local/app:1', layers: 2, build: 18362 });
    expect(r.layerHasFile).toBe('prepared');
    expect(r.listed).toEqual(
      expect.arrayContaining([
        ['docker.io/local/app:1', 2],
        ['docker.io/local/base:1', 1],
      ]),
    );
    expect(r.child).toBe('from the child');
    expect(r.childLayers).toBe('docker.io/local/app:1');
    expect(r.tmpLeft).toEqual([]);
  });
});
