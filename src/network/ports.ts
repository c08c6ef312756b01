import { InvalidArgumentError } from '../internal/errors.js';
import { parseIpv4 } from './address.js';
import { PortMappingParseError } from './errors.js';

export type PortProtocol = 'tcp' | 'udp';

/** One published port: `hostPort` on the host forwards to `sandboxPort` in the sandbox. */
export interface PortMapping {
  hostPort: number;
  sandboxPort: number;
  protocol: PortProtocol;
  /** Host address to bind (PortMapping `VIP`); all addresses when absent. */
  hostAddress?: string;
}

/** IANA protocol numbers HCN's PortMapping `Protocol` takes. */
export const PROTOCOL_NUMBER: Record<PortProtocol, 6 | 17> = { tcp: 6, udp: 17 };

function port(text: string, value: string, which: string, field: string): number {
  if (!/^\d{1,5}$/.test(text))
    throw new PortMappingParseError(field, value, `${which} ${JSON.stringify(text)} is not a number`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new PortMappingParseError(field, value, `${which} ${n} is outside 1-65535`);
  return n;
}

/**
 * Parses `-p` syntax: `hostPort:sandboxPort[/tcp|/udp]`, optionally prefixed
 * by a host IPv4 address (`127.0.0.1:8080:80`). `8080` alone means `8080:8080`.
 * The protocol defaults to tcp.
 */
export function parsePortMapping(value: string, field = 'port'): PortMapping {
  if (typeof value !== 'string' || value.trim() === '')
    throw new PortMappingParseError(field, value, 'empty');
  const text = value.trim();
  const slash = text.lastIndexOf('/');
  let protocol: PortProtocol = 'tcp';
  let ports = text;
  if (slash >= 0) {
    const p = text.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp')
      throw new PortMappingParseError(field, value, `protocol ${JSON.stringify(p)} is not tcp or udp`);
    protocol = p;
    ports = text.slice(0, slash);
  }
  const parts = ports.split(':');
  let hostAddress: string | undefined;
  if (parts.length === 3) {
    hostAddress = parts.shift() as string;
    if (parseIpv4(hostAddress) === undefined)
      throw new PortMappingParseError(
        field,
        value,
        `${JSON.stringify(hostAddress)} is not an IPv4 host address`,
      );
  }
  if (parts.length < 1 || parts.length > 2) throw new PortMappingParseError(field, value, 'too many ":"');
  const hostPort = port(parts[0] ?? '', value, 'host port', field);
  const sandboxPort = parts.length === 2 ? port(parts[1] ?? '', value, 'sandbox port', field) : hostPort;
  const mapping: PortMapping = { hostPort, sandboxPort, protocol };
  if (hostAddress !== undefined) mapping.hostAddress = hostAddress;
  return mapping;
}

/** A host address to bind a published port to: an IPv4 address, else `InvalidArgumentError` naming `field`. */
export function checkHostAddress(value: unknown, field: string): string {
  if (typeof value !== 'string' || parseIpv4(value) === undefined)
    throw new InvalidArgumentError(field, 'an IPv4 address such as 127.0.0.1', value);
  return value;
}

/**
 * Checks a mapping given as an object (the SDK's `ports`) as `parsePortMapping`
 * checks a string, keeping its `hostAddress`: dropping it would publish the
 * port on every interface instead of the one address asked for.
 */
export function checkPortMapping(p: PortMapping, field: string): PortMapping {
  const mapping = parsePortMapping(`${p.hostPort}:${p.sandboxPort}/${p.protocol ?? 'tcp'}`, field);
  if (p.hostAddress !== undefined)
    mapping.hostAddress = checkHostAddress(p.hostAddress, `${field}.hostAddress`);
  return mapping;
}

/** `8080:80/tcp` (with the host address when set). */
export function formatPortMapping(m: PortMapping): string {
  return `${m.hostAddress ? `${m.hostAddress}:` : ''}${m.hostPort}:${m.sandboxPort}/${m.protocol}`;
}

/** Two mappings claim the same host socket (same port and protocol; an absent address means all). */
export function mappingsConflict(a: PortMapping, b: PortMapping): boolean {
  return (
    a.hostPort === b.hostPort &&
    a.protocol === b.protocol &&
    (!a.hostAddress || !b.hostAddress || a.hostAddress === b.hostAddress)
  );
}
