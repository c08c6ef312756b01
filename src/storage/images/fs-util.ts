import { readFile } from 'node:fs/promises';
import { ImageStoreError } from './errors.js';

/** `true` for "no such file or folder" (ENOENT, ENOTDIR). */
export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A file's text, or `undefined` when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** Parsed JSON of a file, or `undefined` when it does not exist; bad JSON is an `ImageStoreError`. */
export async function readJsonIfExists(source: string, path: string): Promise<unknown> {
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    // Windows tools may write a UTF-8 byte order mark.
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (err) {
    throw new ImageStoreError(source, path, 'not valid JSON', { cause: err });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The build number (third part) of a Windows version `10.0.20348.2227`, if it has one. */
export function buildOf(version: string | undefined): number | undefined {
  if (version === undefined) return undefined;
  const m = /^\d+\.\d+\.(\d+)(?:\.\d+)?$/.exec(version.trim());
  return m ? Number(m[1]) : undefined;
}
