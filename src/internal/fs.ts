import { stat } from 'node:fs/promises';

/**
 * Whether anything (file, folder, link target) is at `path`. Any failure to
 * stat counts as absent: callers use it to decide whether to create, skip or
 * report, and a path they cannot stat is one they cannot use either.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
