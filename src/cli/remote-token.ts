import { readFile } from 'node:fs/promises';
import type { RemoteHost } from '../index.js';
import { fileError } from './cli-error.js';
import { sdk } from './sdk.js';

/** A remote `hcs-sandbox serve`: `-H/--host URL` (or HCS_SANDBOX_HOST), and where its token is. */
export interface RemoteTarget {
  url: string;
  /** `--token-file`: wins over HCS_SANDBOX_TOKEN and HCS_SANDBOX_TOKEN_FILE. */
  tokenFile?: string;
}

/** The token: `--token-file`, else HCS_SANDBOX_TOKEN, else the file HCS_SANDBOX_TOKEN_FILE names. */
export async function remoteToken(
  target: RemoteTarget,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const file = target.tokenFile ?? (env.HCS_SANDBOX_TOKEN ? undefined : env.HCS_SANDBOX_TOKEN_FILE);
  if (file === undefined) return env.HCS_SANDBOX_TOKEN || undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw await fileError(error, file);
  }
  const token = text.trim();
  if (!token)
    throw new (sdk().InvalidArgumentError)('token file', 'a file holding the token', file, 'it is empty');
  return token;
}

/** Connects to `target` with its token (the SDK must be loaded). */
export async function connectTarget(target: RemoteTarget): Promise<RemoteHost> {
  const token = await remoteToken(target, process.env);
  return sdk().Sandbox.connect({ url: target.url, ...(token !== undefined && { token }) });
}
