import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../internal/errors.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Chain ids of a layer stack, the way Docker's `layer.CreateChainID` and the
 * OCI image spec define them: `chainID(0) = diffID(0)`,
 * `chainID(n) = sha256(chainID(n-1) + " " + diffID(n))`. `diffIds` are in
 * `rootfs.diff_ids` order (base first); the result is in the same order.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let previous: string | undefined;
  diffIds.forEach((diffId, i) => {
    if (!DIGEST.test(diffId)) {
      throw new InvalidArgumentError(`diffIds[${i}]`, 'a sha256:<64 lowercase hex> digest', diffId);
    }
    const next: string =
      previous === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}`;
    out.push(next);
    previous = next;
  });
  return out;
}

/** The chain id of the whole stack (its top layer), or `undefined` for no layers. */
export function chainId(diffIds: readonly string[]): string | undefined {
  return chainIds(diffIds).at(-1);
}

/** `sha256:<hex>` or `<hex>` → `<hex>`; throws `InvalidArgumentError` on anything else. */
export function digestHex(digest: string, field = 'chainId'): string {
  if (typeof digest === 'string') {
    const hex = digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : digest;
    if (/^[a-f0-9]{64}$/.test(hex)) return hex;
  }
  throw new InvalidArgumentError(field, 'sha256:<64 lowercase hex> or <64 lowercase hex>', digest);
}
