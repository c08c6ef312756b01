import { randomBytes } from 'node:crypto';
import { chmod, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { readIfExists, writeFileAtomic } from '../../internal/atomic-file.js';
import { secureStoreRoot } from '../../storage/index.js';
import { checkTokenFile, parseTokenFile, sha256Hex, type TokenFile } from './auth.js';

/** The entry `serve` makes for itself when no `--token-file` is given. */
export const LOCAL_TOKEN_NAME = 'local';

export interface LocalToken {
  tokens: TokenFile;
  /** `<store root>/serve-tokens.json`: names and hashes only. */
  tokenFile: string;
  /** `<store root>/serve-token.txt`: the token itself, readable by its owner only. */
  tokenPath: string;
  /** A new token was made (else the one in tokenPath still matches the file). */
  created: boolean;
}

/**
 * The token of a `serve` started without `--token-file`: the one already in
 * `serve-token.txt` while the token file still holds its hash, else a fresh
 * one (32 random bytes, base64url) replacing the `local` entry. Both files
 * live in the store root, which only administrators and its owner can reach
 * (`secureStoreRoot`); the token's own file is also created 0600.
 */
export async function localToken(root: string): Promise<LocalToken> {
  await secureStoreRoot(root);
  const tokenFile = join(root, 'serve-tokens.json');
  const tokenPath = join(root, 'serve-token.txt');
  const text = await readIfExists(tokenFile);
  const file = text === undefined ? { tokens: [] } : parseTokenFile(tokenFile, text);
  const existing = (await readIfExists(tokenPath))?.trim();
  const entry = file.tokens.find((t) => t.name === LOCAL_TOKEN_NAME);
  if (existing && entry && entry.sha256 === sha256Hex(existing))
    return { tokens: file, tokenFile, tokenPath, created: false };
  const token = randomBytes(32).toString('base64url');
  const tokens = checkTokenFile({
    tokens: [
      ...file.tokens.filter((t) => t.name !== LOCAL_TOKEN_NAME),
      { name: LOCAL_TOKEN_NAME, sha256: sha256Hex(token) },
    ],
  });
  await writeOwnerOnly(tokenPath, `${token}\n`);
  await writeFileAtomic(tokenFile, `${JSON.stringify(tokens, null, 2)}\n`);
  return { tokens, tokenFile, tokenPath, created: true };
}

/** Replaces `path` with `text`, the file readable and writable by its owner only from its first byte. */
export async function writeOwnerOnly(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
  await chmod(temp, 0o600);
  await rename(temp, path);
}
