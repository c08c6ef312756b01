import { realpath } from 'node:fs/promises';
import { InvalidArgumentError } from '../internal/errors.js';

/**
 * Mapped folders go into the compute system document by their final path,
 * through symlinks and junctions: hcsshim resolves every mount source of a
 * process container the same way (internal/hcsoci/hcsdoc_wcow.go
 * `createMountsConfig`, go-winio `fs.ResolvePath` = GetFinalPathNameByHandle)
 * because HCS itself does not resolve them reliably. Node's `realpath` is
 * libuv's, which also asks GetFinalPathNameByHandle on Windows. The shape of
 * the path was checked without the file system (options.ts); this is the
 * check that needs it.
 */
export async function resolveHostFolder(field: string, hostPath: string): Promise<string> {
  try {
    return await realpath(hostPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' || code === 'ENOTDIR' ? 'it does not exist' : `it cannot be resolved (${code})`;
    throw new InvalidArgumentError(field, 'an existing host folder', hostPath, why);
  }
}

/** Every mapped folder with its host path resolved; `field` names the list in errors. */
export async function resolveMappedFolders<F extends { hostPath: string }>(
  folders: readonly F[],
  field = 'mappedFolders',
): Promise<F[]> {
  const out: F[] = [];
  for (const [i, folder] of folders.entries())
    out.push({ ...folder, hostPath: await resolveHostFolder(`${field}[${i}].hostPath`, folder.hostPath) });
  return out;
}
