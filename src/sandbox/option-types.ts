import { InvalidArgumentError } from '../internal/errors.js';
import { type DnsOptions, parseCidr } from '../network/index.js';
// The document builders' own checks, so a value accepted here is one they accept.
import { checkDomain, checkHostName, checkText } from '../schema/builders/common.js';

/**
 * The shape checks of `SandboxOptions`, run before any value check: options
 * come from JavaScript callers and parsed files too, and a wrong type must end
 * in an `InvalidArgumentError` naming the field, never a `TypeError` from
 * deeper down (`.map` of a string, a property of `null`).
 */

type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object';

const KINDS: Readonly<Record<string, Kind>> = {
  image: 'string',
  isolation: 'string',
  name: 'string',
  persistent: 'boolean',
  memoryMB: 'number',
  cpus: 'number',
  cpuLimit: 'number',
  cpuWeight: 'number',
  ioMaxIops: 'number',
  ioMaxBandwidth: 'number',
  mappedFolders: 'array',
  env: 'object',
  workingDir: 'string',
  hostName: 'string',
  scratchSizeGB: 'number',
  owner: 'string',
  home: 'string',
  start: 'boolean',
  network: 'string',
  networkName: 'string',
  ports: 'array',
  allow: 'array',
  dns: 'object',
};

const EXPECTED: Readonly<Record<Kind, string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function hasKind(value: unknown, kind: Kind): boolean {
  if (kind === 'array') return Array.isArray(value);
  if (kind === 'object') return isPlainObject(value);
  return typeof value === kind;
}

function checkKind(field: string, value: unknown, kind: Kind): void {
  if (!hasKind(value, kind)) throw new InvalidArgumentError(field, EXPECTED[kind], value);
}

/**
 * Every option has its type (absent or `undefined` is always allowed), and no
 * key is unknown: a misspelt option (`memoryMb`) would otherwise be ignored.
 */
export function checkOptionTypes(options: unknown): void {
  if (!isPlainObject(options)) {
    throw new InvalidArgumentError('options', 'an object of sandbox options', options);
  }
  for (const [key, value] of Object.entries(options)) {
    const kind = KINDS[key];
    if (kind === undefined) {
      throw new InvalidArgumentError(
        key,
        `one of the sandbox options (${Object.keys(KINDS).join(', ')})`,
        value,
      );
    }
    if (value !== undefined) checkKind(key, value, kind);
  }
  const { mappedFolders, ports, allow } = options as Record<string, unknown[] | undefined>;
  mappedFolders?.forEach((folder, i) => {
    checkKind(`mappedFolders[${i}]`, folder, 'object');
    const readOnly = (folder as { readOnly?: unknown }).readOnly;
    if (readOnly !== undefined) checkKind(`mappedFolders[${i}].readOnly`, readOnly, 'boolean');
  });
  ports?.forEach((port, i) => {
    if (typeof port !== 'string') checkPortObject(`ports[${i}]`, port);
  });
  allow?.forEach((cidr, i) => {
    checkKind(`allow[${i}]`, cidr, 'string');
  });
}

function checkPortObject(field: string, port: unknown): void {
  if (!isPlainObject(port)) {
    throw new InvalidArgumentError(
      field,
      "'[hostAddress:]hostPort:sandboxPort[/udp]' or { hostPort, sandboxPort }",
      port,
    );
  }
  checkKind(`${field}.hostPort`, port.hostPort, 'number');
  checkKind(`${field}.sandboxPort`, port.sandboxPort, 'number');
  if (port.protocol !== undefined && port.protocol !== 'tcp' && port.protocol !== 'udp') {
    throw new InvalidArgumentError(`${field}.protocol`, "'tcp' or 'udp'", port.protocol);
  }
}

/** The owner written into the compute system: a short line of text. */
export function checkOwner(value: string): string {
  return checkText('owner', value, { max: 256 });
}

/** A sandbox's host name: what Windows takes as a computer name (1-63 letters, digits, inner hyphens). */
export function checkSandboxHostName(value: string): string {
  return checkHostName('hostName', value);
}

/** The name (or id) of an existing HCN network to join. */
export function checkNetworkName(value: string): string {
  return checkText('networkName', value, { max: 256 });
}

/** The store's folder: a non-empty path without control characters. */
export function checkHome(value: string): string {
  return checkText('home', value);
}

/** DNS servers (IPv4 addresses) and search suffixes, checked here rather than when the endpoint is made. */
export function checkDns(dns: DnsOptions): DnsOptions {
  for (const key of Object.keys(dns)) {
    if (key !== 'servers' && key !== 'search')
      throw new InvalidArgumentError(
        `dns.${key}`,
        'one of servers, search',
        (dns as Record<string, unknown>)[key],
      );
  }
  const lists: ['servers' | 'search', (text: string, field: string) => unknown][] = [
    ['servers', (text, field) => parseCidr(text, field)],
    ['search', (text, field) => checkDomain(field, text)],
  ];
  for (const [key, check] of lists) {
    const list: unknown = dns[key];
    if (list === undefined) continue;
    checkKind(`dns.${key}`, list, 'array');
    (list as unknown[]).forEach((item, i) => {
      checkKind(`dns.${key}[${i}]`, item, 'string');
      check(item as string, `dns.${key}[${i}]`);
    });
  }
  return dns;
}
