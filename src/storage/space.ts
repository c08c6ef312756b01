import { statfs } from 'node:fs/promises';
import { dirname, parse } from 'node:path';

export interface FreeSpace {
  /** The volume the path lives on: its root (`C:\`) on Windows, the checked folder elsewhere. */
  volume: string;
  freeBytes: number;
}

/**
 * Free space available to this user on the volume that holds `path`. `path`
 * need not exist yet: the nearest existing ancestor is measured.
 */
export async function freeSpace(path: string): Promise<FreeSpace> {
  let probe = path;
  for (;;) {
    try {
      const stats = await statfs(probe);
      const volume = process.platform === 'win32' ? parse(probe).root || probe : probe;
      return { volume, freeBytes: Number(stats.bavail) * Number(stats.bsize) };
    } catch (error) {
      const parent = dirname(probe);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === probe) throw error;
      probe = parent;
    }
  }
}
