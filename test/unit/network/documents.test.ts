import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  ACL_PRIORITY,
  checkPortsAvailable,
  endpointDocument,
  HcnError,
  hostComputeQuery,
  internalNetworkDocument,
  isOwned,
  isolatedAclPolicies,
  namespaceEndpointRequest,
  natNetworkDocument,
  ownedId,
  PortConflictError,
  parsePortMapping,
  stableMacAddress,
} from '../../../src/network/index.js';

const NET = '3a2b1c0d-1111-2222-3333-444455556666';

describe('network documents (HCN schema 2.0 shapes, HCS-NOTES §7.2)', () => {
  it('NAT network: static IPAM subnet with the gateway as default route', () => {
    expect(
      natNetworkDocument({ name: 'hcs-sandbox-nat', subnet: '172.20.0.0/16', nonPersistent: true }),
    ).toEqual({
      SchemaVersion: { Major: 2, Minor: 0 },
      Name: 'hcs-sandbox-nat',
      Type: 'NAT',
      Ipams: [
        {
          Type: 'Static',
          Subnets: [
            {
              IpAddressPrefix: '172.20.0.0/16',
              Routes: [{ NextHop: '172.20.0.1', DestinationPrefix: '0.0.0.0/0' }],
            },
          ],
        },
      ],
      Flags: 8,
    });
  });
  it('internal network: no route off the subnet', () => {
    const d = internalNetworkDocument({ name: 'hcs-sandbox-lab', subnet: '10.201.0.0/16' });
    expect(d.Type).toBe('Internal');
    expect(d.Ipams?.[0]?.Subnets[0]).toEqual({ IpAddressPrefix: '10.201.0.0/16' });
    expect(d.Flags).toBe(0);
  });
  it('rejects odd subnets', () => {
    expect(() => natNetworkDocument({ name: 'x', subnet: '10.0.0.0/30' })).toThrow(InvalidArgumentError);
    expect(() => natNetworkDocument({ name: 'x', subnet: '10.0.0.1/16' })).toThrow(/host bits/);
  });
});

describe('endpoint documents per mode (HCS-NOTES §7.3)', () => {
  it('nat: port mappings as PortMapping policies (6 = TCP, 17 = UDP), DNS', () => {
    const d = endpointDocument({
      mode: 'nat',
      name: 'hcs-sandbox-a',
      networkId: NET,
      ports: [parsePortMapping('8080:80'), parsePortMapping('127.0.0.1:5353:53/udp')],
      dns: { servers: ['1.1.1.1'], search: ['corp.example.com'] },
      macAddress: '00-15-5d-01-02-03',
    });
    expect(d).toEqual({
      SchemaVersion: { Major: 2, Minor: 0 },
      Name: 'hcs-sandbox-a',
      HostComputeNetwork: NET,
      Policies: [
        { Type: 'PortMapping', Settings: { Protocol: 6, InternalPort: 80, ExternalPort: 8080 } },
        {
          Type: 'PortMapping',
          Settings: { Protocol: 17, InternalPort: 53, ExternalPort: 5353, VIP: '127.0.0.1' },
        },
      ],
      Dns: { ServerList: ['1.1.1.1'], Domain: 'corp.example.com', Search: ['corp.example.com'] },
      MacAddress: '00-15-5D-01-02-03',
    });
  });
  it('nat without options: the bare document', () => {
    expect(endpointDocument({ mode: 'nat', name: 'n', networkId: NET })).toEqual({
      SchemaVersion: { Major: 2, Minor: 0 },
      Name: 'n',
      HostComputeNetwork: NET,
    });
  });
  it('isolated: ACLs block private ranges and host addresses, allow holes win', () => {
    const d = endpointDocument({
      mode: 'isolated',
      name: 'i',
      networkId: NET,
      allow: ['10.1.2.0/24'],
      hostAddresses: ['203.0.113.5/32'],
      gateway: '172.20.0.1',
    });
    const acls = (d.Policies ?? []).map((p) => p.Settings as Record<string, unknown>);
    expect(d.Policies?.every((p) => p.Type === 'ACL')).toBe(true);
    const block = acls.find((a) => a.Action === 'Block');
    expect(block).toMatchObject({ Direction: 'Out', Priority: ACL_PRIORITY.blockPrivate });
    expect(String(block?.RemoteAddresses).split(',')).toEqual([
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '169.254.0.0/16',
      '203.0.113.5/32',
    ]);
    const hole = acls.find((a) => a.RemoteAddresses === '10.1.2.0/24');
    expect(hole).toMatchObject({ Action: 'Allow', Direction: 'Out' });
    expect(Number(hole?.Priority)).toBeLessThan(Number(block?.Priority));
    const dns = acls.filter((a) => a.RemotePorts === '53');
    expect(dns.map((a) => a.Protocols).sort()).toEqual(['17', '6']);
    expect(dns[0]?.RemoteAddresses).toBe('172.20.0.1/32');
    expect(
      acls
        .filter((a) => a.Action === 'Allow' && a.RemoteAddresses === undefined)
        .map((a) => a.Direction)
        .sort(),
    ).toEqual(['In', 'Out']);
    for (const a of acls) expect(['Allow', 'Block']).toContain(a.Action);
  });
  it('isolated: the endpoint is told to use exactly the DNS servers its port-53 rule allows', () => {
    const allowedDns = (d: ReturnType<typeof endpointDocument>) =>
      (d.Policies ?? [])
        .map((p) => p.Settings as Record<string, unknown>)
        .filter((a) => a.Action === 'Allow' && a.RemotePorts === '53')
        .flatMap((a) => String(a.RemoteAddresses).split(','));
    // No servers given: the gateway (else HNS would hand out the host's resolver, a private address the ACLs block).
    const byGateway = endpointDocument({
      mode: 'isolated',
      name: 'i',
      networkId: NET,
      gateway: '172.20.0.1',
    });
    expect(byGateway.Dns).toEqual({ ServerList: ['172.20.0.1'] });
    expect(allowedDns(byGateway)).toEqual(['172.20.0.1/32', '172.20.0.1/32']);
    // The user's servers (search suffixes kept), each allowed.
    const byUser = endpointDocument({
      mode: 'isolated',
      name: 'i',
      networkId: NET,
      gateway: '172.20.0.1',
      dns: { servers: ['192.168.5.53', '1.1.1.1'], search: ['corp.example.com'] },
    });
    expect(byUser.Dns).toEqual({
      ServerList: ['192.168.5.53', '1.1.1.1'],
      Domain: 'corp.example.com',
      Search: ['corp.example.com'],
    });
    expect(new Set(allowedDns(byUser))).toEqual(new Set(['192.168.5.53/32', '1.1.1.1/32']));
    // Search suffixes only: the gateway still serves, and the suffixes stay.
    expect(
      endpointDocument({
        mode: 'isolated',
        name: 'i',
        networkId: NET,
        gateway: '172.20.0.1',
        dns: { search: ['corp.example.com'] },
      }).Dns,
    ).toEqual({ ServerList: ['172.20.0.1'], Domain: 'corp.example.com', Search: ['corp.example.com'] });
    // nat keeps HNS's default (no server list) unless the user gives one.
    expect(
      endpointDocument({ mode: 'nat', name: 'n', networkId: NET, gateway: '172.20.0.1' }).Dns,
    ).toBeUndefined();
  });
  it('isolated ACL generation rejects bad CIDRs', () => {
    expect(() => isolatedAclPolicies({ allow: ['10.0.0.0/99'] })).toThrow(/allow\[0\]/);
  });
  it('nat: an object port keeps its host address as the policy VIP; a bad one is refused, naming it', () => {
    const doc = endpointDocument({
      mode: 'nat',
      name: 'x',
      networkId: NET,
      ports: [{ hostAddress: '127.0.0.1', hostPort: 8080, sandboxPort: 80, protocol: 'tcp' }],
    });
    expect(doc.Policies).toEqual([
      {
        Type: 'PortMapping',
        Settings: { Protocol: 6, InternalPort: 80, ExternalPort: 8080, VIP: '127.0.0.1' },
      },
    ]);
    for (const hostAddress of ['localhost', '']) {
      const ports = [
        parsePortMapping('80'),
        { hostAddress, hostPort: 8080, sandboxPort: 80, protocol: 'tcp' as const },
      ];
      expect(() => endpointDocument({ mode: 'nat', name: 'x', networkId: NET, ports })).toThrow(
        InvalidArgumentError,
      );
      expect(() => endpointDocument({ mode: 'nat', name: 'x', networkId: NET, ports })).toThrow(
        'ports[1].hostAddress',
      );
    }
  });
  it('internal: no ports, no allow', () => {
    expect(() =>
      endpointDocument({ mode: 'internal', name: 'x', networkId: NET, ports: [parsePortMapping('80')] }),
    ).toThrow(InvalidArgumentError);
    expect(() => endpointDocument({ mode: 'nat', name: 'x', networkId: NET, allow: ['1.2.3.0/24'] })).toThrow(
      /isolated/,
    );
    expect(endpointDocument({ mode: 'internal', name: 'x', networkId: NET }).Policies).toBeUndefined();
  });
  it('bad DNS and MAC', () => {
    expect(() =>
      endpointDocument({ mode: 'nat', name: 'x', networkId: NET, dns: { search: ['bad suffix'] } }),
    ).toThrow(/dns.search/);
    expect(() =>
      endpointDocument({ mode: 'nat', name: 'x', networkId: NET, dns: { servers: ['dns.google'] } }),
    ).toThrow(/dns.servers/);
    expect(() => endpointDocument({ mode: 'nat', name: 'x', networkId: NET, macAddress: '00:15' })).toThrow(
      /macAddress/,
    );
  });
  it('namespace requests and queries', () => {
    expect(JSON.parse(namespaceEndpointRequest('Add', NET))).toEqual({
      ResourceType: 'Endpoint',
      RequestType: 'Add',
      Settings: { EndpointId: NET },
    });
    expect(JSON.parse(hostComputeQuery({ Name: 'x' }))).toEqual({
      SchemaVersion: { Major: 2, Minor: 0 },
      Flags: 0,
      Filter: '{"Name":"x"}',
    });
  });
});

describe('ownership and identity', () => {
  it('owned = prefix + name-based id', () => {
    const id = ownedId('network', 'hcs-sandbox-nat');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ownedId('network', 'HCS-SANDBOX-NAT')).toBe(id);
    expect(isOwned('network', { ID: id, Name: 'hcs-sandbox-nat' })).toBe(true);
    expect(isOwned('network', { ID: id.toUpperCase(), Name: 'hcs-sandbox-nat' })).toBe(true);
    expect(isOwned('network', { ID: '11111111-2222-3333-4444-555555555555', Name: 'hcs-sandbox-nat' })).toBe(
      false,
    );
    expect(isOwned('network', { ID: ownedId('network', 'nat'), Name: 'nat' })).toBe(false);
    expect(isOwned('endpoint', { ID: id, Name: 'hcs-sandbox-nat' })).toBe(false);
  });
  it('stable MAC from the sandbox name, in the Hyper-V range', () => {
    expect(stableMacAddress('dev-box')).toBe(stableMacAddress('dev-box'));
    expect(stableMacAddress('dev-box')).not.toBe(stableMacAddress('dev-box-2'));
    expect(stableMacAddress('dev-box')).toMatch(/^00-15-5D-[0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2}$/);
  });
});

describe('HcnError', () => {
  it('names the HRESULT and parses the ErrorRecord', () => {
    const e = new HcnError({
      hresult: 0x803b0013 | 0,
      operation: 'HcnCreateEndpoint',
      subject: 'endpoint "x"',
      errorRecord: '{"ErrorCode":2151284755,"Error":"port 8080 is taken","Success":false}',
    });
    expect(e.hresultName).toBe('HCN_E_PORT_ALREADY_EXISTS');
    expect(e.hresultHex).toBe('0x803B0013');
    expect(e.errorRecord?.Error).toBe('port 8080 is taken');
    expect(e.message).toBe(
      'HcnCreateEndpoint failed for endpoint "x": port 8080 is taken (HCN_E_PORT_ALREADY_EXISTS, 0x803B0013)',
    );
  });
  it('says what to do for access denied and a stopped HNS', () => {
    const denied = new HcnError({ hresult: 0x80070005, operation: 'HcnCreateNetwork' });
    expect(denied.isAccessDenied()).toBe(true);
    expect(denied.message).toMatch(/22H2.*Hyper-V Administrators.*elevated/);
    for (const hr of [0x803b0020, 0x800706ba, 0x80070426]) {
      const e = new HcnError({ hresult: hr, operation: 'HcnEnumerateNetworks' });
      expect(e.isServiceUnavailable()).toBe(true);
      expect(e.message).toContain('Start-Service hns');
    }
  });
  it('keeps a non-JSON record as the message', () => {
    expect(new HcnError({ hresult: 0x80004005, operation: 'X', errorRecord: 'boom' }).message).toContain(
      'boom',
    );
  });
});

describe('host port check', () => {
  const free = async () => true;
  it('refuses a duplicate in the request, a port we publish, and a busy host port', async () => {
    await expect(
      checkPortsAvailable([parsePortMapping('80'), parsePortMapping('80:81')], [], free),
    ).rejects.toThrow(/requested twice/);
    await expect(
      checkPortsAvailable(
        [parsePortMapping('8080:80')],
        [{ mapping: parsePortMapping('8080:9'), by: 'sandbox web' }],
        free,
      ),
    ).rejects.toThrow(/published by sandbox web/);
    const busy = checkPortsAvailable([parsePortMapping('8080:80/udp')], [], async () => false);
    await expect(busy).rejects.toBeInstanceOf(PortConflictError);
    await expect(
      checkPortsAvailable(
        [parsePortMapping('8080:80/udp')],
        [{ mapping: parsePortMapping('8080:80'), by: 'x' }],
        free,
      ),
    ).resolves.toBeUndefined();
  });
  it('really probes the host (tcp)', async () => {
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      await expect(
        checkPortsAvailable([{ hostPort: port, sandboxPort: 80, protocol: 'tcp' }], []),
      ).rejects.toThrow(/another program/);
    } finally {
      server.close();
    }
  });
});
