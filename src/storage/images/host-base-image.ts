import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageRecord, ImageSource } from '../types.js';
import { isMissing } from './fs-util.js';
import { defaultLayerId } from './layer-id.js';
import { type PeVersionInfo, readPeVersion } from './pe-version.js';

/**
 * The Windows Sandbox base image ("dynamic base image") that Windows keeps
 * under `%ProgramData%\Microsoft\Windows\Containers\BaseImages\{GUID}\`
 * (HCS-NOTES §6.4):
 *
 * ```
 * BaseImages\{GUID}\BaseLayer.vhdx   the image (NTFS volume labelled PortableBaseLayer)
 * BaseImages\{GUID}\BaseLayer\       where it is mounted while in use: Files\, Hives\
 * ```
 *
 * Its build is read from the version resource of
 * `BaseLayer\Files\Windows\System32\ntoskrnl.exe` (or `kernel32.dll`).
 */
export type HostBaseImageState =
  /** No `BaseImages` folder or no image in it: the Windows Sandbox feature is off (or never ran). */
  | 'missing'
  /** `BaseLayer.vhdx` exists but is not mounted at `BaseLayer\` (CmService mounts it on demand). */
  | 'not-mounted'
  /** Mounted, and not older than `hostBuild` (or no `hostBuild` to compare with). */
  | 'ready'
  /** Mounted but older than the host: Windows has not refreshed it since an update. */
  | 'stale';

export interface HostBaseImage {
  state: HostBaseImageState;
  /** What the state means here, in words, for `image ls` and errors. */
  reason: string;
  /** The `BaseImages` folder looked in. */
  baseImagesDir: string;
  /** `{GUID}` of the image folder chosen, when one exists. */
  guid?: string;
  /** `BaseImages\{GUID}`. */
  folder?: string;
  /** `BaseImages\{GUID}\BaseLayer.vhdx`, when it exists. */
  vhdxPath?: string;
  /** `BaseImages\{GUID}\BaseLayer`, when mounted (holds `Files\`). */
  layerPath?: string;
  /** Version of the kernel file inside the image. */
  osVersion?: string;
  build?: number;
  revision?: number;
  /** The file the version was read from. */
  versionFile?: string;
  /** How many `{GUID}` folders were found (Windows keeps one; more means a leftover). */
  candidates: number;
}

export interface HostBaseImageOptions {
  /** `%ProgramData%`; default from the environment, else `C:\ProgramData`. */
  programData?: string;
  /** The `BaseImages` folder itself; overrides `programData`. */
  baseImagesDir?: string;
  /** The host's build, to call an older image `stale`. */
  hostBuild?: number;
  /** The host's revision (UBR); with `hostBuild`, an image of the same build but an older revision is `stale`. */
  hostRevision?: number;
  /** Injected version reader (tests, or a Windows API based one). */
  readVersion?: (path: string) => Promise<PeVersionInfo>;
  /** The HCS GUID of the layer folder; default `defaultLayerId`. */
  layerId?: (path: string) => string | Promise<string>;
}

/** The reference the host base image is listed under; `host` also resolves to it. */
export const HOST_IMAGE_REFERENCE = 'host/windows-sandbox';
export const HOST_IMAGE_ALIASES: readonly string[] = [HOST_IMAGE_REFERENCE, 'host', 'windows-sandbox'];

const VERSION_FILES = [
  ['Files', 'Windows', 'System32', 'ntoskrnl.exe'],
  ['Files', 'Windows', 'System32', 'kernel32.dll'],
] as const;

const GUID_FOLDER = /^\{?[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}?$/;

export function defaultBaseImagesDir(programData?: string): string {
  const root = programData ?? process.env.ProgramData ?? process.env.PROGRAMDATA ?? 'C:\\ProgramData';
  return join(root, 'Microsoft', 'Windows', 'Containers', 'BaseImages');
}

/** Finds the host's Windows Sandbox base image and says whether it is usable. Never throws for a missing image. */
export async function findHostBaseImage(options: HostBaseImageOptions = {}): Promise<HostBaseImage> {
  const baseImagesDir = options.baseImagesDir ?? defaultBaseImagesDir(options.programData);
  let names: string[];
  try {
    names = (await readdir(baseImagesDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && GUID_FOLDER.test(d.name))
      .map((d) => d.name)
      .sort();
  } catch (err) {
    if (!isMissing(err)) throw err;
    return {
      state: 'missing',
      reason: `no ${baseImagesDir}: the Windows Sandbox feature (Containers-DisposableClientVM) looks off`,
      baseImagesDir,
      candidates: 0,
    };
  }
  if (names.length === 0) {
    return {
      state: 'missing',
      reason: `no base image in ${baseImagesDir}: enable Windows Sandbox and start it once`,
      baseImagesDir,
      candidates: 0,
    };
  }

  // Prefer a mounted image, then one with a VHDX; among equals the last by name.
  const infos = await Promise.all(
    names.map(async (guid) => {
      const folder = join(baseImagesDir, guid);
      const layerPath = join(folder, 'BaseLayer');
      const vhdxPath = join(folder, 'BaseLayer.vhdx');
      const mounted = await isDir(join(layerPath, 'Files'));
      const hasVhdx = await isFile(vhdxPath);
      return { guid, folder, layerPath, vhdxPath, mounted, hasVhdx };
    }),
  );
  const chosen =
    infos.filter((i) => i.mounted).at(-1) ?? infos.filter((i) => i.hasVhdx).at(-1) ?? infos.at(-1)!;
  const base: HostBaseImage = {
    state: 'missing',
    reason: '',
    baseImagesDir,
    guid: chosen.guid.replace(/^\{|\}$/g, ''),
    folder: chosen.folder,
    candidates: names.length,
  };
  if (chosen.hasVhdx) base.vhdxPath = chosen.vhdxPath;
  if (!chosen.mounted) {
    if (!chosen.hasVhdx) {
      return { ...base, reason: `${chosen.folder} holds neither BaseLayer.vhdx nor a mounted BaseLayer\\` };
    }
    return {
      ...base,
      state: 'not-mounted',
      reason: `${chosen.vhdxPath} is not mounted at BaseLayer\\ (Windows mounts it while Windows Sandbox runs)`,
    };
  }
  base.layerPath = chosen.layerPath;

  const read = options.readVersion ?? readPeVersion;
  let version: PeVersionInfo | undefined;
  const problems: string[] = [];
  for (const parts of VERSION_FILES) {
    const file = join(chosen.layerPath, ...parts);
    try {
      version = await read(file);
      base.versionFile = file;
      break;
    } catch (err) {
      problems.push(`${parts.at(-1)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (version === undefined) {
    return { ...base, state: 'ready', reason: `mounted; build unknown (${problems.join('; ')})` };
  }
  base.osVersion = version.fileVersion;
  base.build = version.build;
  base.revision = version.revision;

  const { hostBuild, hostRevision } = options;
  if (hostBuild !== undefined) {
    const olderBuild = version.build < hostBuild;
    const olderRevision =
      version.build === hostBuild && hostRevision !== undefined && version.revision < hostRevision;
    if (olderBuild || olderRevision) {
      const host = hostRevision === undefined ? `${hostBuild}` : `${hostBuild}.${hostRevision}`;
      return {
        ...base,
        state: 'stale',
        reason: `image ${version.build}.${version.revision} is older than the host ${host}: Windows refreshes it when Windows Sandbox next starts after an update`,
      };
    }
  }
  return { ...base, state: 'ready', reason: `mounted, build ${version.fileVersion}` };
}

/**
 * An `ImageSource` offering the host's Windows Sandbox base image, as
 * `host/windows-sandbox` (also resolved from `host` and `windows-sandbox`),
 * when it is mounted. A `stale` image is still listed (with its build), so
 * compatibility checks can say why it will not run.
 */
export class HostBaseImageSource implements ImageSource {
  readonly name = 'host';
  readonly #options: HostBaseImageOptions;

  constructor(options: HostBaseImageOptions = {}) {
    this.#options = options;
  }

  /** The full finding, including why the image is not usable. */
  find(): Promise<HostBaseImage> {
    return findHostBaseImage(this.#options);
  }

  async list(): Promise<ImageRecord[]> {
    const found = await this.find();
    if ((found.state !== 'ready' && found.state !== 'stale') || found.layerPath === undefined) return [];
    const layerPath = found.layerPath;
    const record: ImageRecord = {
      reference: HOST_IMAGE_REFERENCE,
      id: found.guid ?? '',
      source: 'host',
      os: 'windows',
      layers: [{ id: await (this.#options.layerId ?? defaultLayerId)(layerPath), path: layerPath }],
    };
    if (found.osVersion !== undefined) record.osVersion = found.osVersion;
    if (found.build !== undefined) record.build = found.build;
    if (found.vhdxPath !== undefined) {
      try {
        record.sizeBytes = (await stat(found.vhdxPath)).size;
      } catch {
        // Size is informative only.
      }
    }
    return [record];
  }

  async resolve(reference: string): Promise<ImageRecord | undefined> {
    if (!HOST_IMAGE_ALIASES.includes(reference)) return undefined;
    return (await this.list())[0];
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
