import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readIfExists, writeFileAtomic } from '../../internal/atomic-file.js';
import { InvalidArgumentError } from '../../internal/errors.js';
import { UnauthorizedError } from './errors.js';

/**
 * Bearer tokens (docs/remote.md, "Tokens"). The token file holds each
 * token's name, the SHA-256 of the token and its quotas, never the token:
 * whoever reads the file still cannot call the server.
 */

export interface TokenQuotas {
  /** Sandboxes of this token alive at once. */
  maxSandboxes?: number;
  /** Sum of the memoryMB of its live sandboxes (one without memoryMB counts its isolation's default). */
  maxMemoryMB?: number;
  /** No sandbox of this token outlives this, persistent or not. */
  maxLifetimeSeconds?: number;
}

export interface TokenEntry extends TokenQuotas {
  /** Who the token is for: logged, and the owner of the sandboxes it creates. */
  name: string;
  /** Hex SHA-256 of the token. */
  sha256: string;
}

export interface TokenFile {
  tokens: TokenEntry[];
}

const QUOTA_FIELDS = ['maxSandboxes', 'maxMemoryMB', 'maxLifetimeSeconds'] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Checks a parsed token file, naming the first bad field (`tokens[1].sha256`). */
export function checkTokenFile(value: unknown): TokenFile {
  const tokens = (value as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(tokens)) throw new InvalidArgumentError('tokens', 'an array of token entries', tokens);
  const names = new Set<string>();
  tokens.forEach((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    if (typeof e.name !== 'string' || !NAME.test(e.name))
      throw new InvalidArgumentError(
        `tokens[${i}].name`,
        'a name of letters, digits, ".", "_", "-" (1-64)',
        e.name,
      );
    if (names.has(e.name))
      throw new InvalidArgumentError(`tokens[${i}].name`, 'a name no other entry has', e.name);
    names.add(e.name);
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256))
      throw new InvalidArgumentError(
        `tokens[${i}].sha256`,
        '64 lower-case hex digits (SHA-256 of the token)',
        e.sha256,
      );
    for (const field of QUOTA_FIELDS) {
      const q = e[field];
      if (q !== undefined && !(Number.isSafeInteger(q) && (q as number) > 0))
        throw new InvalidArgumentError(`tokens[${i}].${field}`, 'a positive whole number', q);
    }
  });
  return { tokens: tokens as TokenEntry[] };
}

export async function loadTokenFile(path: string): Promise<TokenFile> {
  return parseTokenFile(path, await readFile(path, 'utf8'));
}

/** The token file at `path` from its text, checked (a file that is not JSON names its path). */
export function parseTokenFile(path: string, text: string): TokenFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError('tokenFile', 'a JSON token file', path, (error as Error).message);
  }
  return checkTokenFile(parsed);
}

/**
 * Appends a fresh token under `name` to the file at `path` (made if missing,
 * owner-only); returns the token, which exists nowhere else afterwards.
 */
export async function addNewToken(path: string, name: string, quotas: TokenQuotas = {}): Promise<string> {
  const text = await readIfExists(path);
  const file = text === undefined ? { tokens: [] } : parseTokenFile(path, text);
  const token = randomBytes(32).toString('base64url');
  const next = checkTokenFile({ tokens: [...file.tokens, { name, sha256: sha256Hex(token), ...quotas }] });
  await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`);
  return token;
}

/** The token entries a server checks requests against. */
export class TokenRing {
  readonly #entries: { entry: TokenEntry; digest: Buffer }[];

  constructor(file: TokenFile) {
    this.#entries = file.tokens.map((entry) => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }));
  }

  /**
   * The entry whose token the `Authorization` header carries. The presented
   * token is hashed (so every comparison is 32 bytes against 32 bytes) and
   * compared with every entry in constant time, with no early exit: the time
   * taken says nothing about which entry, or how much of one, matched.
   *
   * @throws UnauthorizedError
   */
  authenticate(header: string | undefined): TokenEntry {
    const match = header === undefined ? undefined : /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!match) throw new UnauthorizedError(header === undefined ? 'missing' : 'unknown');
    const presented = createHash('sha256')
      .update(match[1] as string, 'utf8')
      .digest();
    let found: TokenEntry | undefined;
    for (const { entry, digest } of this.#entries) {
      if (timingSafeEqual(presented, digest) && found === undefined) found = entry;
    }
    if (!found) throw new UnauthorizedError('unknown');
    return found;
  }
}
