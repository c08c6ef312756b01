import { InvalidArgumentError } from '../../internal/errors.js';
import type { SandboxOptions } from '../../sandbox/index.js';

/**
 * The JSON bodies the API takes, checked field by field: a wrong type is a
 * 400 naming the field, never a TypeError deeper down. Values the SDK checks
 * itself (a memory size the host cannot give, a bad host name) are left to it.
 */

type Kind = 'string' | 'number' | 'boolean' | 'strings' | 'command';

const CREATE_FIELDS: Readonly<Record<string, Kind>> = {
  image: 'string',
  name: 'string',
  isolation: 'string',
  memoryMB: 'number',
  cpus: 'number',
  cpuLimit: 'number',
  network: 'string',
  env: 'strings',
  workingDir: 'string',
  hostName: 'string',
  persistent: 'boolean',
  lifetimeSeconds: 'number',
};

/** Options that name paths on the server's machine: a remote caller has no business there. */
const HOST_ONLY = new Set([
  'mappedFolders',
  'home',
  'cacheDir',
  'owner',
  'ports',
  'networkName',
  'dns',
  'allow',
]);

const EXPECTED: Readonly<Record<Kind, string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  strings: 'an object of string values',
  command: 'a command line string or a non-empty array of strings',
};

function hasKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'strings':
      return (
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === 'string')
      );
    case 'command':
      return (
        (typeof value === 'string' && value.trim() !== '') ||
        (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string'))
      );
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === kind;
  }
}

function checkFields(
  body: Record<string, unknown>,
  fields: Readonly<Record<string, Kind>>,
  what: string,
): void {
  for (const [key, value] of Object.entries(body)) {
    const kind = fields[key];
    if (kind === undefined) {
      const detail = HOST_ONLY.has(key)
        ? 'host paths and host resources are not accepted remotely'
        : undefined;
      throw new InvalidArgumentError(
        key,
        `one of the ${what} fields (${Object.keys(fields).join(', ')})`,
        value,
        detail,
      );
    }
    if (value !== undefined && !hasKind(value, kind))
      throw new InvalidArgumentError(key, EXPECTED[kind], value);
  }
}

export interface CreateRequest {
  options: SandboxOptions & { image: string; persistent: boolean };
  lifetimeSeconds: number | undefined;
}

export function parseCreateRequest(body: Record<string, unknown>): CreateRequest {
  checkFields(body, CREATE_FIELDS, 'create');
  if (typeof body.image !== 'string' || body.image === '')
    throw new InvalidArgumentError('image', 'an image reference (required)', body.image);
  const { lifetimeSeconds, persistent, ...rest } = body;
  if (
    lifetimeSeconds !== undefined &&
    !(Number.isSafeInteger(lifetimeSeconds) && (lifetimeSeconds as number) > 0)
  )
    throw new InvalidArgumentError('lifetimeSeconds', 'a positive whole number of seconds', lifetimeSeconds);
  return {
    options: { ...(rest as SandboxOptions), image: body.image, persistent: persistent === true },
    lifetimeSeconds: lifetimeSeconds as number | undefined,
  };
}

export function parseStopRequest(body: Record<string, unknown>): { timeoutMs?: number } {
  checkFields(body, { timeoutMs: 'number' }, 'stop');
  return body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs as number };
}

export interface CommandRequest {
  command: string | string[];
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

const COMMAND_FIELDS: Readonly<Record<string, Kind>> = {
  command: 'command',
  cwd: 'string',
  env: 'strings',
  timeoutMs: 'number',
};

function commandOf(body: Record<string, unknown>): CommandRequest {
  if (body.command === undefined) throw new InvalidArgumentError('command', EXPECTED.command, undefined);
  const out: CommandRequest = { command: body.command as string | string[] };
  if (body.cwd !== undefined) out.cwd = body.cwd as string;
  if (body.env !== undefined) out.env = body.env as Record<string, string>;
  if (body.timeoutMs !== undefined) out.timeoutMs = body.timeoutMs as number;
  return out;
}

export interface RunRequest extends CommandRequest {
  stdin: Buffer | undefined;
  encoding: 'utf8' | 'base64';
}

export function parseRunRequest(body: Record<string, unknown>): RunRequest {
  checkFields(body, { ...COMMAND_FIELDS, stdin: 'string', encoding: 'string' }, 'command');
  if (body.encoding !== undefined && body.encoding !== 'utf8' && body.encoding !== 'base64')
    throw new InvalidArgumentError('encoding', "'utf8' or 'base64'", body.encoding);
  if (typeof body.stdin === 'string' && !/^[A-Za-z0-9+/]*={0,2}$/.test(body.stdin))
    throw new InvalidArgumentError('stdin', 'base64 text', body.stdin);
  return {
    ...commandOf(body),
    stdin: typeof body.stdin === 'string' ? Buffer.from(body.stdin, 'base64') : undefined,
    encoding: body.encoding === 'base64' ? 'base64' : 'utf8',
  };
}

export interface StreamStart extends CommandRequest {
  tty?: boolean;
  cols?: number;
  rows?: number;
}

export function parseStreamStart(message: Record<string, unknown>): StreamStart {
  const { type, ...body } = message;
  if (type !== 'start') throw new InvalidArgumentError('type', "'start' as the first message", type);
  checkFields(body, { ...COMMAND_FIELDS, tty: 'boolean', cols: 'number', rows: 'number' }, 'start');
  const out: StreamStart = commandOf(body);
  if (body.tty !== undefined) out.tty = body.tty as boolean;
  if (body.cols !== undefined) out.cols = body.cols as number;
  if (body.rows !== undefined) out.rows = body.rows as number;
  return out;
}

/** A `?path=` query value: required, a non-empty guest path. */
export function guestPathOf(url: URL): string {
  const path = url.searchParams.get('path');
  if (path === null || path === '') throw new InvalidArgumentError('path', 'a guest path in ?path=', path);
  return path;
}
