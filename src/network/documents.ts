import { InvalidArgumentError } from '../internal/errors.js';
import { type Cidr, gatewayOf, PRIVATE_RANGES, parseCidr } from './address.js';
import { checkHostAddress, type PortMapping, PROTOCOL_NUMBER } from './ports.js';

/**
 * HCN JSON documents (schema 2.0) as Microsoft documents them: the "HCN JSON
 * document schemas" page, `hcn/HNS_Schema.md`, and hcsshim's `hcn/*.go` struct
 * tags (field names PascalCase, `ID` in capitals). HCS-NOTES §7.
 */
export const HCN_SCHEMA_VERSION = { Major: 2, Minor: 0 } as const;

export type HcnNetworkType =
  | 'NAT'
  | 'ICS'
  | 'Transparent'
  | 'L2Bridge'
  | 'L2Tunnel'
  | 'Overlay'
  | 'Private'
  | 'Internal';

/** `HostComputeNetwork` flags (numeric; HNS_Schema names them, NanaBox/WSL give the values). */
export const NetworkFlags = {
  None: 0,
  EnableDns: 1,
  EnableDhcp: 2,
  EnableNonPersistent: 8,
  IsolateVSwitch: 32,
} as const;

export interface HcnPolicy<S = Record<string, unknown>> {
  Type: string;
  Settings?: S;
}

export interface HcnRoute {
  NextHop?: string;
  DestinationPrefix?: string;
  Metric?: number;
}

export interface HcnSubnet {
  IpAddressPrefix: string;
  Routes?: HcnRoute[];
}

export interface HcnNetworkDocument {
  SchemaVersion: { Major: number; Minor: number };
  Name: string;
  Type: HcnNetworkType | string;
  Ipams?: { Type: 'Static' | 'DHCP'; Subnets: HcnSubnet[] }[];
  Dns?: HcnDns;
  Policies?: HcnPolicy[];
  Flags?: number;
}

export interface HcnDns {
  Domain?: string;
  Search?: string[];
  ServerList?: string[];
  Options?: string[];
}

export interface HcnEndpointDocument {
  SchemaVersion: { Major: number; Minor: number };
  Name: string;
  HostComputeNetwork: string;
  Policies?: HcnPolicy[];
  IpConfigurations?: { IpAddress: string; PrefixLength?: number }[];
  Dns?: HcnDns;
  MacAddress?: string;
  Flags?: number;
}

/** `AclPolicySetting` (hcsshim `hcn/hcnpolicy.go`). Addresses are comma-separated. */
export interface AclSettings {
  Action: 'Allow' | 'Block';
  Direction: 'In' | 'Out';
  Protocols?: string;
  LocalAddresses?: string;
  RemoteAddresses?: string;
  LocalPorts?: string;
  RemotePorts?: string;
  RuleType?: 'Host' | 'Switch';
  Priority?: number;
}

/** A NAT network owned by hcs-sandbox: one static subnet with its gateway as the default route. */
export function natNetworkDocument(options: {
  name: string;
  subnet: string;
  nonPersistent?: boolean;
  dns?: DnsOptions;
}): HcnNetworkDocument {
  const subnet = parseCidr(options.subnet, 'subnet');
  checkSubnetSize(subnet);
  const doc: HcnNetworkDocument = {
    SchemaVersion: { ...HCN_SCHEMA_VERSION },
    Name: options.name,
    Type: 'NAT',
    Ipams: [
      {
        Type: 'Static',
        Subnets: [
          {
            IpAddressPrefix: subnet.text,
            Routes: [{ NextHop: gatewayOf(subnet), DestinationPrefix: '0.0.0.0/0' }],
          },
        ],
      },
    ],
    Flags: options.nonPersistent ? NetworkFlags.EnableNonPersistent : NetworkFlags.None,
  };
  const dns = dnsDocument(options.dns);
  if (dns) doc.Dns = dns;
  return doc;
}

/**
 * An internal network: sandboxes on it reach each other and nothing else. HCN
 * type `Internal` (HNS_Schema); no default route, so nothing is routed off
 * the subnet. Whether the host's vNIC on an Internal network can reach the
 * sandboxes on real Windows is unverified (docs/networking.md).
 */
export function internalNetworkDocument(options: {
  name: string;
  subnet: string;
  nonPersistent?: boolean;
}): HcnNetworkDocument {
  const subnet = parseCidr(options.subnet, 'subnet');
  checkSubnetSize(subnet);
  return {
    SchemaVersion: { ...HCN_SCHEMA_VERSION },
    Name: options.name,
    Type: 'Internal',
    Ipams: [{ Type: 'Static', Subnets: [{ IpAddressPrefix: subnet.text }] }],
    Flags: options.nonPersistent ? NetworkFlags.EnableNonPersistent : NetworkFlags.None,
  };
}

function checkSubnetSize(subnet: Cidr): void {
  if (subnet.prefixLength > 29 || subnet.prefixLength < 8)
    throw new InvalidArgumentError('subnet', 'a prefix length between /8 and /29', subnet.text);
}

export interface DnsOptions {
  servers?: readonly string[];
  /** DNS search suffixes; the first is also the connection's `Domain`. */
  search?: readonly string[];
}

export function dnsDocument(dns: DnsOptions | undefined): HcnDns | undefined {
  if (!dns) return undefined;
  const out: HcnDns = {};
  if (dns.servers?.length) {
    dns.servers.forEach((s, i) => {
      parseCidr(s, `dns.servers[${i}]`);
    });
    out.ServerList = [...dns.servers];
  }
  if (dns.search?.length) {
    dns.search.forEach((s, i) => {
      if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(s))
        throw new InvalidArgumentError(`dns.search[${i}]`, 'a DNS suffix such as corp.example.com', s);
    });
    out.Domain = dns.search[0] as string;
    out.Search = [...dns.search];
  }
  return Object.keys(out).length ? out : undefined;
}

/** `PortMapping` endpoint policy for one published port. */
export function portMappingPolicy(m: PortMapping): HcnPolicy {
  const settings: Record<string, unknown> = {
    Protocol: PROTOCOL_NUMBER[m.protocol],
    InternalPort: m.sandboxPort,
    ExternalPort: m.hostPort,
  };
  if (m.hostAddress) settings.VIP = m.hostAddress;
  return { Type: 'PortMapping', Settings: settings };
}

/** ACL priorities: a lower number wins (VFP/WFP rule order). */
export const ACL_PRIORITY = { allowHole: 100, blockPrivate: 200, defaultAllow: 1000 } as const;

/**
 * The ACL rules of `isolated` mode: outbound to the private ranges, link-local
 * and the host's own addresses is blocked; everything else is allowed. `allow`
 * CIDRs punch holes at a higher priority; DNS to `dnsServers` (the NAT gateway
 * by default, which lies in a private range) stays allowed so names resolve.
 */
export function isolatedAclPolicies(options: {
  allow?: readonly string[];
  hostAddresses?: readonly string[];
  dnsServers?: readonly string[];
}): HcnPolicy<AclSettings>[] {
  const allow = (options.allow ?? []).map((c, i) => parseCidr(c, `allow[${i}]`, { loose: true }).text);
  const host = (options.hostAddresses ?? []).map(
    (c, i) => parseCidr(c, `hostAddresses[${i}]`, { loose: true }).text,
  );
  const dns = (options.dnsServers ?? []).map((c, i) => parseCidr(c, `dnsServers[${i}]`).text);
  const rules: AclSettings[] = [];
  if (allow.length)
    rules.push({
      Action: 'Allow',
      Direction: 'Out',
      RemoteAddresses: allow.join(','),
      RuleType: 'Switch',
      Priority: ACL_PRIORITY.allowHole,
    });
  if (dns.length) {
    for (const proto of ['17', '6'])
      rules.push({
        Action: 'Allow',
        Direction: 'Out',
        Protocols: proto,
        RemoteAddresses: dns.join(','),
        RemotePorts: '53',
        RuleType: 'Switch',
        Priority: ACL_PRIORITY.allowHole,
      });
  }
  const blocked = [...new Set([...PRIVATE_RANGES, ...host])];
  rules.push({
    Action: 'Block',
    Direction: 'Out',
    RemoteAddresses: blocked.join(','),
    RuleType: 'Switch',
    Priority: ACL_PRIORITY.blockPrivate,
  });
  rules.push({ Action: 'Allow', Direction: 'Out', RuleType: 'Switch', Priority: ACL_PRIORITY.defaultAllow });
  rules.push({ Action: 'Allow', Direction: 'In', RuleType: 'Switch', Priority: ACL_PRIORITY.defaultAllow });
  return rules.map((Settings) => ({ Type: 'ACL', Settings }));
}

export type EndpointMode = 'nat' | 'isolated' | 'internal';

export interface EndpointDocumentOptions {
  mode: EndpointMode;
  name: string;
  networkId: string;
  ports?: readonly PortMapping[];
  allow?: readonly string[];
  dns?: DnsOptions;
  macAddress?: string;
  /** isolated: the host's own addresses to block. */
  hostAddresses?: readonly string[];
  /** isolated: the network's gateway (the endpoint's DNS server, allowed by the ACLs, when no servers are given). */
  gateway?: string;
}

/** The endpoint document of one sandbox in `mode` (`none` has no endpoint at all). */
export function endpointDocument(o: EndpointDocumentOptions): HcnEndpointDocument {
  if (o.mode === 'internal' && o.ports?.length)
    throw new InvalidArgumentError(
      'ports',
      'no published ports on an internal network (nothing outside it can reach them)',
      o.ports.length,
    );
  if (o.mode !== 'isolated' && o.allow?.length)
    throw new InvalidArgumentError('allow', 'allow CIDRs only with the isolated mode', o.allow);
  const doc: HcnEndpointDocument = {
    SchemaVersion: { ...HCN_SCHEMA_VERSION },
    Name: o.name,
    HostComputeNetwork: o.networkId,
  };
  // A host address HNS cannot use must not become a port published on every interface.
  const policies: HcnPolicy[] = (o.ports ?? []).map((m, i) => {
    if (m.hostAddress !== undefined) checkHostAddress(m.hostAddress, `ports[${i}].hostAddress`);
    return portMappingPolicy(m);
  });
  let dns = dnsDocument(o.dns);
  if (o.mode === 'isolated') {
    const dnsServers = o.dns?.servers?.length ? o.dns.servers : o.gateway ? [o.gateway] : [];
    // Left unset, HNS hands a NAT endpoint the host's own resolver (measured by
    // hcsctl: "DNS 192.168.1.1", commit 014823e docs/findings.md, Networking),
    // which the block rule below would cut off. So the endpoint is told to use
    // exactly the servers its port-53 rule allows.
    if (dnsServers.length && !dns?.ServerList) dns = { ServerList: [...dnsServers], ...dns };
    policies.push(
      ...(isolatedAclPolicies({
        ...(o.allow ? { allow: o.allow } : {}),
        ...(o.hostAddresses ? { hostAddresses: o.hostAddresses } : {}),
        dnsServers,
      }) as unknown as HcnPolicy[]),
    );
  }
  if (policies.length) doc.Policies = policies;
  if (dns) doc.Dns = dns;
  if (o.macAddress) {
    if (!/^([0-9A-F]{2}-){5}[0-9A-F]{2}$/i.test(o.macAddress))
      throw new InvalidArgumentError('macAddress', 'a MAC address such as 00-15-5D-12-34-56', o.macAddress);
    doc.MacAddress = o.macAddress.toUpperCase();
  }
  return doc;
}

/** A namespace (network compartment) document; containers attach to one. */
export function namespaceDocument(): { SchemaVersion: { Major: number; Minor: number }; Type: 'Host' } {
  return { SchemaVersion: { ...HCN_SCHEMA_VERSION }, Type: 'Host' };
}

/** `HcnModifyNamespace` request attaching or detaching an endpoint. */
export function namespaceEndpointRequest(requestType: 'Add' | 'Remove', endpointId: string): string {
  return JSON.stringify({
    ResourceType: 'Endpoint',
    RequestType: requestType,
    Settings: { EndpointId: endpointId },
  });
}

/** A `HostComputeQuery` with a filter (hcsshim's shape: Filter is a JSON string). */
export function hostComputeQuery(filter: Record<string, unknown> | undefined): string {
  return JSON.stringify({
    SchemaVersion: { ...HCN_SCHEMA_VERSION },
    Flags: 0,
    Filter: filter ? JSON.stringify(filter) : '',
  });
}
