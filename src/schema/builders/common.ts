/**
 * Shared pieces of the document builders: the compute-system envelope (Owner,
 * SchemaVersion, ShouldTerminateOnLastHandleClosed), host facts, and input checks.
 * Everything here is pure: no I/O. Host-path existence is checked only through the
 * caller's `host.pathExists` hook; without it, paths are checked for syntax only.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type { Version } from '../generated/hcs.js';

/** The `Owner` every compute system gets unless `owner` is passed. */
export const DEFAULT_OWNER = 'hcs-sandbox';

/** The `SchemaVersion` documents declare unless `schemaVersion` is passed (works from Windows 10 1809 on). */
export const DEFAULT_SCHEMA_VERSION: Readonly<Version> = Object.freeze({ Major: 2, Minor: 1 });

/** The highest schema minor version (major 2) documented in the schema reference's version map. */
export const MAX_SCHEMA_MINOR = 6;

/**
 * Facts about the host, supplied by the caller (builders are pure and never ask
 * the OS). Every member is optional; a missing fact means "no limit / not checked".
 */
export interface HostFacts {
  /** Logical processors the host has (HCS `ProcessorTopology.LogicalProcessorCount`). */
  logicalProcessorCount?: number;
  /** Physical memory of the host in MB. */
  memoryMB?: number;
  /**
   * Answers whether a host path exists. When given, paths that must already exist
   * (layers, shared folders, images, VHDX files) are checked with it; when absent
   * they are checked for syntax only.
   */
  pathExists?: (path: string) => boolean;
}

/** Options every compute-system builder accepts. */
export interface SystemDocumentOptions {
  /** `Owner` of the compute system. Default `"hcs-sandbox"`. */
  owner?: string;
  /**
   * When true the system survives the last handle being closed
   * (`ShouldTerminateOnLastHandleClosed: false`). Default false: closing the last
   * handle terminates it.
   */
  outliveCreator?: boolean;
  /** Declared `SchemaVersion`. Default `{ Major: 2, Minor: 1 }`. */
  schemaVersion?: Version;
  /** Host facts used for limits and existence checks. */
  host?: HostFacts;
}

export interface SystemEnvelope {
  Owner: string;
  SchemaVersion: Version;
  ShouldTerminateOnLastHandleClosed: boolean;
}

export function systemEnvelope(options: SystemDocumentOptions): SystemEnvelope {
  const owner = options.owner ?? DEFAULT_OWNER;
  checkText('owner', owner, { max: 256 });
  if (options.outliveCreator !== undefined) checkBoolean('outliveCreator', options.outliveCreator);
  return {
    Owner: owner,
    SchemaVersion: checkSchemaVersion('schemaVersion', options.schemaVersion ?? DEFAULT_SCHEMA_VERSION),
    ShouldTerminateOnLastHandleClosed: options.outliveCreator !== true,
  };
}

export function checkSchemaVersion(field: string, value: unknown): Version {
  const v = value as Version | undefined;
  if (
    typeof v !== 'object' ||
    v === null ||
    v.Major !== 2 ||
    !Number.isInteger(v.Minor) ||
    (v.Minor as number) < 0 ||
    (v.Minor as number) > MAX_SCHEMA_MINOR
  ) {
    throw new InvalidArgumentError(field, `{ Major: 2, Minor: 0..${MAX_SCHEMA_MINOR} }`, value);
  }
  return { Major: 2, Minor: v.Minor as number };
}

export function checkHost(host: unknown): HostFacts {
  if (host === undefined) return {};
  if (typeof host !== 'object' || host === null) throw new InvalidArgumentError('host', 'an object', host);
  const h = host as HostFacts;
  if (h.logicalProcessorCount !== undefined) {
    checkInteger('host.logicalProcessorCount', h.logicalProcessorCount, 1, 65535);
  }
  if (h.memoryMB !== undefined) checkInteger('host.memoryMB', h.memoryMB, 1, Number.MAX_SAFE_INTEGER);
  if (h.pathExists !== undefined && typeof h.pathExists !== 'function') {
    throw new InvalidArgumentError('host.pathExists', 'a function (path) => boolean', h.pathExists);
  }
  return h;
}

// ---------------------------------------------------------------------------
// Scalars

export function checkObject(field: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(field, 'an object', value);
  }
}

export function checkArray(field: string, value: unknown, minLength = 0): asserts value is unknown[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(field, 'an array', value);
  if (value.length < minLength) {
    throw new InvalidArgumentError(field, `an array with at least ${minLength} item(s)`, value);
  }
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(field, 'true or false', value);
  return value;
}

export function checkInteger(field: string, value: unknown, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
    throw new InvalidArgumentError(field, `an integer ${range}${unit ? ` ${unit}` : ''}`, value);
  }
  return value;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A non-empty string without control characters. */
export function checkText(field: string, value: unknown, opts: { max?: number; allowEmpty?: boolean } = {}) {
  const max = opts.max ?? 32767;
  if (typeof value !== 'string' || (!opts.allowEmpty && value.length === 0) || value.length > max) {
    throw new InvalidArgumentError(
      field,
      `a ${opts.allowEmpty ? '' : 'non-empty '}string of at most ${max} characters`,
      value,
    );
  }
  if (CONTROL.test(value))
    throw new InvalidArgumentError(field, 'a string without control characters', value);
  return value;
}

export function checkEnum<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      field,
      `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
      value,
    );
  }
  return value as T;
}

const GUID = /^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$/;

/** A GUID without braces, as the schema's pattern requires (`0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b`). */
export function checkGuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !GUID.test(value)) {
    throw new InvalidArgumentError(
      field,
      'a GUID like 0b2f0d8e-1c4a-5e6f-8a9b-1c2d3e4f5a6b (no braces)',
      value,
    );
  }
  return value;
}

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

const SID = /^S-1-[0-9]+(-[0-9]+)+$/;

export function checkSid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !SID.test(value)) {
    throw new InvalidArgumentError(field, 'a SID string like S-1-5-21-...-1001', value);
  }
  return value;
}

/** A security descriptor in SDDL form; only the shape is checked (starts with O:, G:, D: or S:). */
export function checkSddl(field: string, value: unknown): string {
  checkText(field, value, { max: 4096 });
  if (!/^(O:|G:|D:|S:)/.test(value as string)) {
    throw new InvalidArgumentError(field, 'an SDDL string such as "D:P(A;;FA;;;SY)(A;;FA;;;BA)"', value);
  }
  return value as string;
}

const MAC = /^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}$/;

export function checkMac(field: string, value: unknown): string {
  if (typeof value !== 'string' || !MAC.test(value)) {
    throw new InvalidArgumentError(field, 'a MAC address like 00-15-5D-52-C0-10', value);
  }
  return value;
}

// ---------------------------------------------------------------------------
// Windows paths

const INVALID_PATH_CHARS = /[<>"|?*]/;

function checkPathBody(field: string, value: string, body: string, allowed: string): void {
  if (body.includes('/')) {
    throw new InvalidArgumentError(field, allowed, value, 'use backslashes, not forward slashes');
  }
  if (INVALID_PATH_CHARS.test(body) || body.includes(':')) {
    throw new InvalidArgumentError(field, allowed, value, 'contains a character Windows paths cannot hold');
  }
  const segments = body.split('\\');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new InvalidArgumentError(field, allowed, value, 'contains "." or ".." segments');
  }
  if (segments.slice(0, -1).some((s) => s === '')) {
    throw new InvalidArgumentError(field, allowed, value, 'contains an empty path segment');
  }
}

const HOST_PATH_ALLOWED = 'an absolute Windows host path (C:\\..., \\\\server\\share\\... or \\\\?\\...)';

/**
 * An absolute host path: `C:\dir`, a UNC path `\\server\share\dir`, or a
 * `\\?\` path (e.g. `\\?\Volume{GUID}\`). With `mustExist` and a
 * `host.pathExists` hook, the path must also exist.
 */
export function checkHostPath(
  field: string,
  value: unknown,
  opts: { host?: HostFacts; mustExist?: boolean } = {},
): string {
  checkText(field, value);
  const path = value as string;
  let body: string;
  if (/^[A-Za-z]:\\/.test(path)) {
    body = path.slice(3);
  } else if (path.startsWith('\\\\?\\') || path.startsWith('\\\\.\\')) {
    body = path.slice(4);
    if (body === '') throw new InvalidArgumentError(field, HOST_PATH_ALLOWED, value);
    // \\?\C:\x carries a drive letter after the prefix.
    if (/^[A-Za-z]:\\/.test(body)) body = body.slice(3);
    // \\?\Volume{GUID}\ : braces are fine, nothing else to strip.
  } else if (/^\\\\[^\\]+\\[^\\]+/.test(path)) {
    body = path.slice(2);
  } else {
    throw new InvalidArgumentError(field, HOST_PATH_ALLOWED, value, 'relative paths are not allowed');
  }
  checkPathBody(field, path, body, HOST_PATH_ALLOWED);
  if (opts.mustExist && opts.host?.pathExists && !opts.host.pathExists(path)) {
    throw new InvalidArgumentError(field, 'an existing host path', value, 'host.pathExists returned false');
  }
  return path;
}

const GUEST_PATH_ALLOWED = 'an absolute Windows path inside the guest (C:\\...)';

/** An absolute drive path inside the container or VM (`C:\data`). */
export function checkGuestPath(field: string, value: unknown, opts: { allowRoot?: boolean } = {}): string {
  checkText(field, value);
  const path = value as string;
  if (!/^[A-Za-z]:\\/.test(path)) {
    throw new InvalidArgumentError(field, GUEST_PATH_ALLOWED, value);
  }
  const body = path.slice(3);
  if (!opts.allowRoot && body.replace(/\\$/, '') === '') {
    throw new InvalidArgumentError(field, `${GUEST_PATH_ALLOWED} below the drive root`, value);
  }
  checkPathBody(field, path, body, GUEST_PATH_ALLOWED);
  return path;
}

/** A named-pipe path on the host: `\\.\pipe\name`. */
export function checkPipePath(field: string, value: unknown): string {
  checkText(field, value);
  if (!/^\\\\[.?]\\pipe\\[^\\]/i.test(value as string) && !/^\\\\\?\\VMSMB\\/i.test(value as string)) {
    throw new InvalidArgumentError(field, 'a named-pipe path like \\\\.\\pipe\\name', value);
  }
  return value as string;
}

// ---------------------------------------------------------------------------
// Memory and processors

/** Checks a memory size in MB against a minimum and the host's memory. */
export function checkMemoryMB(field: string, value: unknown, minimum: number, host: HostFacts): number {
  const max = host.memoryMB ?? Number.MAX_SAFE_INTEGER;
  if (typeof value === 'number' && Number.isInteger(value) && value < minimum) {
    throw new InvalidArgumentError(
      field,
      `an integer >= ${minimum} (MB)`,
      value,
      `the minimum is ${minimum} MB`,
    );
  }
  if (typeof value === 'number' && Number.isInteger(value) && value > max) {
    throw new InvalidArgumentError(
      field,
      `an integer ${minimum}..${max} (MB)`,
      value,
      'more than the host has',
    );
  }
  return checkInteger(field, value, minimum, max, '(MB)');
}

/** Checks a processor count against the host's logical processor count. */
export function checkProcessorCount(field: string, value: unknown, host: HostFacts): number {
  const max = host.logicalProcessorCount ?? 2048;
  if (typeof value === 'number' && Number.isInteger(value) && value > max && host.logicalProcessorCount) {
    throw new InvalidArgumentError(
      field,
      `an integer 1..${max}`,
      value,
      `the host has ${max} logical processors`,
    );
  }
  return checkInteger(field, value, 1, max);
}

/** Copies only the defined entries, so optional wire fields stay absent rather than `undefined`. */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Guest path of a VSMB share inside a Windows guest. */
export const VSMB_GUEST_PREFIX = '\\\\?\\VMSMB\\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\\';

export function vsmbGuestPath(shareName: string): string {
  return `${VSMB_GUEST_PREFIX}${shareName}`;
}

/** A VSMB share name: letters, digits, `-`, `_`, `.`, `$`, 1..80 characters. */
export function checkShareName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.$-]{1,80}$/.test(value)) {
    throw new InvalidArgumentError(
      field,
      'a share name of 1-80 letters, digits, "-", "_", "." or "$"',
      value,
    );
  }
  return value;
}

/** A host name: a DNS label (1-63 letters, digits and hyphens, not starting or ending with a hyphen). */
export function checkHostName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/.test(value)) {
    throw new InvalidArgumentError(field, 'a host name of 1-63 letters, digits and inner hyphens', value);
  }
  return value;
}

/** A DNS domain such as `corp.example.com`. */
export function checkDomain(field: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    value.length > 253 ||
    !/^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/.test(value)
  ) {
    throw new InvalidArgumentError(field, 'a DNS domain name like corp.example.com', value);
  }
  return value;
}
