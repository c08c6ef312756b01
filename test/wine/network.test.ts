import { describe, expect, it } from 'vitest';
import { newInstance, runInWine, runOk } from './harness.js';

// biome-ignore lint/suspicious/noExplicitAny: untyped JSON results from the scripts
type Json = any;

interface NetAudit {
  Strings: { Allocated: number; Live: number };
  LiveStringSamples: string[];
  [handles: string]: unknown;
}

/** Every HCN handle the product opened was closed, every string it got was CoTaskMemFree'd. */
function expectNoHcnLeaks(audit: NetAudit | undefined): void {
  expect(audit, 'no audit').toBeDefined();
  const a = audit as NetAudit;
  expect(a.Strings.Live, JSON.stringify(a.LiveStringSamples)).toBe(0);
  for (const [key, value] of Object.entries(a)) {
    if (!key.endsWith('Handles')) continue;
    const v = value as { Opened: number; Closed: number };
    expect(v.Closed, key).toBe(v.Opened);
  }
}

describe('network modes against the simulated HCN', () => {
  it('creates each mode’s documents, attaches a namespace, cleans up, leaks nothing', async () => {
    const r = await runOk<Json>('network-modes.mjs', [], { instance: newInstance('netmodes') });
    expect(r.none).toBeNull();
    expect(r.nat).toMatchObject({
      name: 'hcs-sandbox-sb-nat',
      sandboxId: 'sb-nat',
      networkName: 'hcs-sandbox-nat',
      ipAddress: '172.20.0.2',
      prefixLength: 16,
      gateway: '172.20.0.1',
      owned: true,
      ports: [
        { hostPort: 18080, sandboxPort: 80, protocol: 'tcp' },
        { hostPort: 18053, sandboxPort: 53, protocol: 'udp' },
      ],
    });
    expect(r.nat.macAddress).toMatch(/^00-15-5D-/);
    expect(r.isolated.ipAddress).toBe('172.20.0.3');
    expect(r.internal).toMatchObject({ networkName: 'hcs-sandbox-lab' });
    expect(r.internal.gateway).toBeUndefined();
    expect(r.internal.ipAddress).toMatch(/^172\.21\.0\.2$/);
    expect(r.internal2.ipAddress).toBe('172.21.0.3');
    expect(r.internalPorts).toMatchObject({ name: 'InvalidArgumentError' });
    expect(r.twice).toMatchObject({
      name: 'InvalidArgumentError',
      message: expect.stringContaining('already has one'),
    });
    expect(r.wrongKind).toMatchObject({
      name: 'InvalidArgumentError',
      message: expect.stringContaining('Internal network'),
    });

    const byName = (list: Json[], name: string) => list.find((x: Json) => x.Name === name);
    const natNet = byName(r.state.Networks, 'hcs-sandbox-nat');
    expect(natNet).toMatchObject({ Type: 'NAT', Flags: 8 });
    expect(byName(r.state.Networks, 'hcs-sandbox-lab')).toMatchObject({ Type: 'Internal', Flags: 0 });
    const natEp = byName(r.state.Endpoints, 'hcs-sandbox-sb-nat');
    expect(natEp.Dns).toEqual({
      ServerList: ['1.1.1.1'],
      Domain: 'corp.example.com',
      Search: ['corp.example.com'],
    });
    expect(natEp.HostComputeNamespace).toBe(r.nsId);
    const isoEp = byName(r.state.Endpoints, 'hcs-sandbox-sb-iso');
    const acls = isoEp.Policies.filter((p: Json) => p.Type === 'ACL').map((p: Json) => p.Settings);
    expect(acls.find((a: Json) => a.Action === 'Block').RemoteAddresses).toContain('192.0.2.10/32');
    expect(acls.find((a: Json) => a.RemoteAddresses === '10.1.2.0/24')).toMatchObject({ Action: 'Allow' });
    expect(isoEp.MacAddress).toBe(r.isolated.macAddress); // the stable MAC we asked for
    // The resolver the endpoint ends up with (the simulated HNS, like the real one, hands a NAT
    // endpoint without a server list the host's resolver, 192.168.1.1) must be one the port-53
    // rule allows, or nothing resolves in isolated mode.
    const dnsHoles = acls
      .filter((a: Json) => a.Action === 'Allow' && a.RemotePorts === '53')
      .flatMap((a: Json) => a.RemoteAddresses.split(','));
    expect(isoEp.Dns.ServerList).toEqual(['172.20.0.1']);
    for (const server of isoEp.Dns.ServerList) expect(dnsHoles).toContain(`${server}/32`);
    expect(r.state.Namespaces[0].Resources).toEqual([{ Type: 'Endpoint', Data: { ID: natEp.ID } }]);
    expect(r.networks.filter((n: Json) => n.owned).map((n: Json) => [n.name, n.endpoints])).toEqual([
      ['hcs-sandbox-nat', 2],
      ['hcs-sandbox-lab', 2],
    ]);

    expect(r.deletedAttached).toBe(true);
    expect(r.missing).toBe(false);
    expect(r.gc.removedNetworks.sort()).toEqual(['hcs-sandbox-lab', 'hcs-sandbox-nat']);
    expect(r.after).toEqual({ networks: [], endpoints: [], namespaces: 0 });
    expectNoHcnLeaks(r.audit);
  });
});

describe('across processes', () => {
  it('an endpoint created by one node.exe is seen, conflicts and is removed by another', async () => {
    const instance = newInstance('netx');
    const a = await runOk<Json>('network-cross.mjs', ['create', 'xp'], { instance });
    expect(a.ep.ipAddress).toBe('172.20.0.2');
    const b = await runOk<Json>('network-cross.mjs', ['clean', 'xp'], { instance });
    expect(b.nets.map((n: Json) => n.name)).toEqual(['hcs-sandbox-nat']);
    expect(b.inspect.endpointList.map((e: Json) => [e.sandboxId, e.ipAddress])).toEqual([
      ['xp', '172.20.0.2'],
    ]);
    expect(b.conflict).toMatchObject({
      name: 'PortConflictError',
      message: expect.stringContaining('published by sandbox xp'),
    });
    expect(b.removed).toBe(true);
    expect(b.state.Networks).toEqual([]);
    expect(b.state.Endpoints).toEqual([]);
    expectNoHcnLeaks(b.audit);
  });
});

describe('published ports', () => {
  it('refuses busy host ports and our own before creating anything', async () => {
    const r = await runOk<Json>('network-ports.mjs', [], { instance: newInstance('netports') });
    expect(r.busy).toMatchObject({ name: 'PortConflictError', code: 'PORT_IN_USE' });
    expect(r.busy.message).toContain('18111/tcp');
    expect(r.afterBusy).toEqual({ networks: [], endpoints: [], namespaces: 0 });
    expect(r.ours).toMatchObject({
      name: 'PortConflictError',
      message: expect.stringContaining('sandbox p1'),
    });
    expect(r.dup).toMatchObject({
      name: 'PortConflictError',
      message: expect.stringContaining('requested twice'),
    });
    expect(r.udpOk.ports).toEqual([{ hostPort: 18112, sandboxPort: 80, protocol: 'udp' }]);
    expect(r.afterConflicts.endpoints.sort()).toEqual(['hcs-sandbox-p1', 'hcs-sandbox-p3']);
    expect(r.end).toEqual({ networks: [], endpoints: [], namespaces: 0 });
    expectNoHcnLeaks(r.audit);
  });
});

describe('failures halfway', () => {
  it('a fault at each HCN call of createEndpoint leaves nothing behind', async () => {
    const r = await runOk<Json>('network-faults.mjs', [], {
      instance: newInstance('netfault'),
      timeoutMs: 90_000,
    });
    const failed = r.runs.filter((x: Json) => x.error);
    expect(failed.length).toBeGreaterThanOrEqual(6);
    for (const run of failed) {
      expect(run.error, `fault at call ${run.nth}`).toMatchObject({
        name: 'HcnError',
        hresultName: 'HCN_E_MANAGER_STOPPED',
      });
      expect(run.after, `state after a fault at call ${run.nth}`).toEqual({
        networks: [],
        endpoints: [],
        namespaces: 0,
      });
    }
    const last = r.runs.at(-1);
    expect(last.error).toBeNull();
    expect(last.faultUnused).toBe(true);
    expect(r.denied.message).toMatch(/E_ACCESSDENIED.*elevated/);
    expect(r.stopped.message).toContain('Start-Service hns');
    expectNoHcnLeaks(r.audit);
  });
});

describe('gc', () => {
  it('removes our unused endpoints and never touches Docker’s, WSL’s or impostors', async () => {
    const r = await runOk<Json>('network-gc.mjs', [], { instance: newInstance('netgc') });
    expect(r.before.endpoints.sort()).toEqual([
      'docker-container-ep',
      'hcs-sandbox-dead1',
      'hcs-sandbox-dead2',
      'hcs-sandbox-impostor',
      'hcs-sandbox-live',
      'wsl-ep',
    ]);
    expect(r.before.namespaces).toBe(1);
    expect(r.gc.removedEndpoints.sort()).toEqual(['hcs-sandbox-dead1', 'hcs-sandbox-dead2']);
    expect(r.gc.removedNamespaces).toHaveLength(1);
    expect(r.gc.foreignEndpoints).toBe(3);
    expect(r.middle.endpoints.sort()).toEqual([
      'docker-container-ep',
      'hcs-sandbox-impostor',
      'hcs-sandbox-live',
      'wsl-ep',
    ]);
    expect(r.middle.namespaces).toBe(0);
    expect(r.gc2.removedEndpoints).toEqual(['hcs-sandbox-live']);
    expect(r.gc2.removedNetworks).toEqual(['hcs-sandbox-nat']);
    expect(r.end.networks.sort()).toEqual(['WSL', 'nat']);
    expect(r.end.endpoints.sort()).toEqual(['docker-container-ep', 'hcs-sandbox-impostor', 'wsl-ep']);
    expectNoHcnLeaks(r.audit);
  });
});

describe('raw bindings', () => {
  it('GUIDs, ErrorRecords, handles and port reservations through koffi', async () => {
    const r = await runOk<Json>('network-probe.mjs', [], { instance: newInstance('netraw') });
    expect(r.createHr).toBe(0);
    expect(r.id).toBe('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
    expect(r.badHr).toBe(0x803b001b);
    expect(JSON.parse(r.badRecord)).toMatchObject({ ErrorCode: 0x803b001b, Success: false });
    expect(r.closedAgain).toBe(0x80070006);
    expect(r.range.end - r.range.start).toBe(3);
    expect(r.list).toEqual([
      { protocol: 1, start: 5000, end: 5000 },
      { protocol: 3, start: r.range.start, end: r.range.end },
    ]);
    expect(r.delHr).toBe(0);
    expectNoHcnLeaks(r.audit);
  });
});

describe('CLI through node.exe', () => {
  it('network create, ls, inspect, rm', async () => {
    const instance = newInstance('netcli');
    const cli = (...args: string[]) => runInWine('dist/cli/main.js', args, { instance });
    const created = await cli('network', 'create', 'lab', '--type', 'internal', '--subnet', '10.60.0.0/16');
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created hcs-sandbox-lab Internal 10\.60\.0\.0\/16 [0-9a-f-]{36}\n$/);
    const again = await cli('network', 'create', 'lab');
    expect(again.stdout).toMatch(/^exists hcs-sandbox-lab/);
    const ls = await cli('network', 'ls');
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^NAME\s+TYPE\s+SUBNET\s+GATEWAY\s+ENDPOINTS\s+OWNED\s+ID\n/);
    expect(ls.stdout).toMatch(/hcs-sandbox-lab\s+Internal\s+10\.60\.0\.0\/16\s+0\s+yes/);
    const inspect = await cli('network', 'inspect', 'lab', '--json');
    expect(JSON.parse(inspect.stdout)).toMatchObject({
      name: 'hcs-sandbox-lab',
      owned: true,
      endpointList: [],
    });
    const missing = await cli('network', 'inspect', 'nope');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('No HCN network is named "nope"');
    const rm = await cli('network', 'rm', 'lab');
    expect(rm.stdout).toBe('removed hcs-sandbox-lab\n');
    const empty = await cli('network', 'ls', '--json');
    expect(JSON.parse(empty.stdout)).toEqual([]);
    // output for docs/networking.md
    process.stdout.write(`${created.stdout}${ls.stdout}${inspect.stdout}\n`);
  });
});
