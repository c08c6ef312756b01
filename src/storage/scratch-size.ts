import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAbsolutePath } from './paths.js';

/**
 * The scratch VHDX's name in its folder, and its size on disk: what listing a
 * sandbox needs of its writable layer. A module of its own so that `ls` (the
 * CLI's listing chunk) does not load the layer machinery and its native
 * bindings (issue 16, cold start).
 */
export const SCRATCH_VHDX = 'sandbox.vhdx';

/** Bytes the scratch VHDX in `dir` takes on disk (its allocated blocks where the platform says). */
export async function scratchSize(dir: string): Promise<number> {
  checkAbsolutePath(dir, 'dir');
  const s = await stat(join(dir, SCRATCH_VHDX));
  return typeof s.blocks === 'number' && s.blocks > 0 ? s.blocks * 512 : s.size;
}
