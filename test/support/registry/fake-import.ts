/** A fake `LayerImporter` (decodes the transport folder into plain files) and a scan of what a store holds on disk. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayerImporter, LayerRef } from '../../../src/storage/types.js';
import { decodeTransportFolder } from '../transport-decode.js';

export interface ImportCall {
  layerPath: string;
  sourcePath: string;
  parents: LayerRef[];
  /** Top-level names in the source folder at import time. */
  sourceEntries: string[];
}

export function fakeImporter(options: { failOnCall?: number } = {}): {
  importLayer: LayerImporter;
  calls: ImportCall[];
} {
  const calls: ImportCall[] = [];
  const importLayer: LayerImporter = async (layerPath, sourcePath, parents) => {
    calls.push({ layerPath, sourcePath, parents, sourceEntries: (await readdir(sourcePath)).sort() });
    if (options.failOnCall === calls.length) throw new Error(`import ${calls.length} failed on purpose`);
    await decodeTransportFolder(sourcePath, layerPath);
  };
  return { importLayer, calls };
}

/** Every file and folder under `root` (relative, sorted); [] when it does not exist. */
export async function scan(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) await walk(join(dir, e.name), r);
    }
  };
  await walk(root, '');
  return out.sort();
}
