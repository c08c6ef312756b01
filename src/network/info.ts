import type { HcnEndpointProperties, HcnNetworkProperties } from './client.js';
import { isOwned, sandboxIdOfEndpoint } from './identity.js';
import { type PortMapping, PROTOCOL_NUMBER } from './ports.js';

// HCN network and endpoint documents as the summaries the SDK and CLI show:
// pure conversions, no HCN call.

export interface NetworkInfo {
  id: string;
  name: string;
  type: string;
  subnet: string | undefined;
  gateway: string | undefined;
  owned: boolean;
  endpoints?: number;
}

export function subnetOf(props: HcnNetworkProperties): string | undefined {
  for (const ipam of props.Ipams ?? [])
    for (const s of ipam.Subnets ?? []) if (s.IpAddressPrefix) return s.IpAddressPrefix;
  return undefined;
}

export function toNetworkInfo(props: HcnNetworkProperties): NetworkInfo {
  const subnet = subnetOf(props);
  let gateway: string | undefined;
  for (const ipam of props.Ipams ?? [])
    for (const s of ipam.Subnets ?? []) for (const r of s.Routes ?? []) gateway ??= r.NextHop;
  return {
    id: props.ID,
    name: props.Name ?? props.ID,
    type: props.Type ?? '',
    subnet,
    gateway,
    owned: isOwned('network', props),
  };
}

export interface EndpointInfo {
  id: string;
  name: string;
  sandboxId: string | undefined;
  networkId: string | undefined;
  networkName: string | undefined;
  ipAddress: string | undefined;
  prefixLength: number | undefined;
  gateway: string | undefined;
  macAddress: string | undefined;
  namespaceId: string | undefined;
  ports: PortMapping[];
  owned: boolean;
}

export function portMappingsOf(props: HcnEndpointProperties): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of props.Policies ?? []) {
    if (p.Type !== 'PortMapping' || !p.Settings) continue;
    const s = p.Settings as { Protocol?: number; InternalPort?: number; ExternalPort?: number; VIP?: string };
    const protocol = s.Protocol === PROTOCOL_NUMBER.udp ? 'udp' : 'tcp';
    const m: PortMapping = {
      hostPort: Number(s.ExternalPort),
      sandboxPort: Number(s.InternalPort),
      protocol,
    };
    if (s.VIP) m.hostAddress = s.VIP;
    out.push(m);
  }
  return out;
}

export function toEndpointInfo(props: HcnEndpointProperties, network?: NetworkInfo): EndpointInfo {
  const ip = props.IpConfigurations?.[0];
  const owned = isOwned('endpoint', props);
  return {
    id: props.ID,
    name: props.Name ?? props.ID,
    sandboxId: owned && props.Name ? sandboxIdOfEndpoint(props.Name) : undefined,
    networkId: props.HostComputeNetwork,
    networkName: network?.name,
    ipAddress: ip?.IpAddress,
    prefixLength: ip?.PrefixLength,
    gateway: network?.gateway,
    macAddress: props.MacAddress,
    namespaceId: props.HostComputeNamespace,
    ports: portMappingsOf(props),
    owned,
  };
}
