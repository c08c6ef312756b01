import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chainIds } from '../../../../src/storage/images/chain-id.js';

/** A fresh temp folder and a function that removes it. */
export async function tempRoot(prefix: string): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), `hcs-sandbox-${prefix}-`));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export async function put(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export interface FixtureLayer {
  /** Seed for the diff id. */
  name: string;
  size?: number;
  /** Override the graph driver id (default: hex of the chain id). */
  cacheId?: string;
}

export interface FixtureImage {
  refs: string[];
  os?: string;
  osVersion?: string;
  created?: string;
  /** Base first, like rootfs.diff_ids. */
  layers: FixtureLayer[];
  /** Paths written to the top layer's layerchain.json; default the true parents. `null` = no file. */
  layerChain?: string[] | null;
}

export interface BuiltImage {
  id: string;
  diffIds: string[];
  chainIds: string[];
  /** Layer folders, top first. */
  folders: string[];
}

/** Writes a Docker `windowsfilter` store under `root` the way dockerd lays it out. */
export async function makeDockerStore(root: string, images: FixtureImage[]): Promise<BuiltImage[]> {
  const store = join(root, 'image', 'windowsfilter');
  const repositories: Record<string, Record<string, string>> = {};
  const built: BuiltImage[] = [];
  for (const image of images) {
    const diffIds = image.layers.map((l) => sha256(`diff:${l.name}`));
    const chain = chainIds(diffIds);
    const config: Record<string, unknown> = {
      architecture: 'amd64',
      os: image.os ?? 'windows',
      rootfs: { type: 'layers', diff_ids: diffIds },
    };
    if (image.osVersion !== undefined) config['os.version'] = image.osVersion;
    if (image.created !== undefined) config.created = image.created;
    const configText = JSON.stringify(config);
    const id = sha256(configText);
    await put(join(store, 'imagedb', 'content', 'sha256', id.slice(7)), configText);
    const folders: string[] = [];
    for (const [i, layer] of image.layers.entries()) {
      const chainHex = chain[i]!.slice(7);
      const cacheId = layer.cacheId ?? chainHex;
      const db = join(store, 'layerdb', 'sha256', chainHex);
      await put(join(db, 'cache-id'), cacheId);
      await put(join(db, 'size'), String(layer.size ?? 0));
      await put(join(db, 'diff'), diffIds[i]!);
      const folder = join(root, 'windowsfilter', cacheId);
      await mkdir(join(folder, 'Files'), { recursive: true });
      // Every layer but the base has a layerchain.json naming its parents, nearest first.
      if (i > 0) await put(join(folder, 'layerchain.json'), JSON.stringify([...folders].reverse()));
      folders.push(folder);
    }
    const top = folders.at(-1)!;
    if (image.layerChain === null) await rm(join(top, 'layerchain.json'), { force: true });
    else if (image.layerChain !== undefined)
      await put(join(top, 'layerchain.json'), JSON.stringify(image.layerChain));
    for (const ref of image.refs) {
      const repo = ref.replace(/[:@].*$/, '');
      repositories[repo] ??= {};
      repositories[repo][ref] = id;
    }
    built.push({ id, diffIds, chainIds: chain, folders: [...folders].reverse() });
  }
  await put(join(store, 'repositories.json'), JSON.stringify({ Repositories: repositories }));
  return built;
}
