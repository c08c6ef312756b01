import { CidrParseError } from './errors.js';

/** An IPv4 CIDR: the network address (host bits cleared) and prefix length. */
export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefixLength: number;
  /** Canonical text, e.g. `10.0.0.0/8`. */
  readonly text: string;
}

/** Parses a dotted IPv4 address; undefined when it is not one (no leading zeros, 0-255 each). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value >>> 0;
}

export function formatIpv4(value: number): string {
  const v = value >>> 0;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

export function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * Parses `a.b.c.d/n` (a bare address is `/32`). Host bits must be zero unless
 * `loose` (then they are cleared): `10.0.0.1/8` is a typo more often than not.
 */
export function parseCidr(text: string, field = 'cidr', options: { loose?: boolean } = {}): Cidr {
  if (typeof text !== 'string' || text.trim() === '') throw new CidrParseError(field, text, 'empty');
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const lengthText = slash < 0 ? '32' : trimmed.slice(slash + 1);
  const address = parseIpv4(addressText);
  if (address === undefined)
    throw new CidrParseError(field, text, `${JSON.stringify(addressText)} is not an IPv4 address`);
  if (!/^\d{1,2}$/.test(lengthText) || Number(lengthText) > 32)
    throw new CidrParseError(field, text, 'the prefix length must be 0-32');
  const prefixLength = Number(lengthText);
  const network = (address & maskOf(prefixLength)) >>> 0;
  if (network !== address && !options.loose)
    throw new CidrParseError(
      field,
      text,
      `host bits are set; did you mean ${formatIpv4(network)}/${prefixLength}?`,
    );
  return { network, prefixLength, text: `${formatIpv4(network)}/${prefixLength}` };
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return (address & maskOf(cidr.prefixLength)) >>> 0 === cidr.network;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a.prefixLength, b.prefixLength);
  return (a.network & maskOf(len)) >>> 0 === (b.network & maskOf(len)) >>> 0;
}

/** The first usable address (`.1`): the gateway HNS gives a NAT network. */
export function gatewayOf(cidr: Cidr): string {
  return formatIpv4(cidr.network + 1);
}

/** The ranges `isolated` blocks: RFC 1918 private ranges and link-local. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'] as const;
