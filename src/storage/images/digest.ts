/**
 * Content digests (`sha256:<64 hex>`) and their verification. Chain ids live in `chain-id.ts`.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { HcsSandboxError, InvalidArgumentError } from '../../internal/errors.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** True for a `sha256:<64 lowercase hex>` digest, the only algorithm registries use for images. */
export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

/** Checks a digest coming from a manifest or a caller; `field` names where it came from. */
export function assertDigest(value: unknown, field: string): string {
  if (!isDigest(value)) throw new InvalidArgumentError(field, 'a digest "sha256:<64 hex>"', value);
  return value;
}

/** The hex part of a digest (file names in blob folders). */
export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** The digest of bytes in memory. */
export function sha256Of(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The digest of a file, streamed. */
export async function sha256File(path: string, hash: Hash = createHash('sha256')): Promise<string> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Content did not hash to the digest that names it (corrupt download, wrong manifest, tampering). */
export class DigestMismatchError extends HcsSandboxError {
  readonly expected: string;
  readonly actual: string;
  /** What was being verified: a blob, a layer's uncompressed content (diff id), a manifest, a file in a tar. */
  readonly subject: string;

  constructor(subject: string, expected: string, actual: string) {
    super('DIGEST_MISMATCH', `${subject}: content hashes to ${actual}, expected ${expected}.`);
    this.subject = subject;
    this.expected = expected;
    this.actual = actual;
  }
}
