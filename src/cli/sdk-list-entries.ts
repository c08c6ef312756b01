/**
 * What `ls` loads instead of the SDK (sdk.ts `loadSandboxListing`): the
 * listing, and the error classes it can throw for main.ts to classify
 * (report.ts, exit-codes.ts). The bundle (scripts/bundle-cli.mjs) puts these
 * modules and what they import in a chunk of their own, which the SDK chunk
 * imports in turn: one class, one identity, whichever loaded it first.
 *
 * The only file of cli/ that imports past the public entry points (biome.json
 * lets it): the entry points are indexes that load their whole layer.
 */
import { HcsError } from '../hcs/errors.js';
import { HcsSandboxError } from '../internal/errors.js';
import { listSandboxes } from '../sandbox/list.js';

export { listSandboxes };

/**
 * The SDK's error classes as `isSdkError`'s pickers reach them, those that
 * can exist without the SDK: what `ls` can throw.
 */
export const errorClasses = { HcsSandboxError, hcs: { HcsError }, jobs: {} };
