/**
 * Shared storage vocabulary. A layer is a folder in Windows' container layer
 * format (`Files\`, `Hives\`, ...); a chain lists a layer's parents nearest
 * first and the base OS layer last, the order of `Container.Storage.Layers`
 * and of `LayerData.Layers`.
 */

/** One read-only layer: the GUID HCS knows it by and its folder on the host. */
export interface LayerRef {
  id: string;
  path: string;
}

/** Where an image came from. */
export type ImageSourceName = 'docker' | 'containerd' | 'hcs-sandbox' | 'host';

/** An image any source offers, resolved to a layer chain usable by HCS. */
export interface ImageRecord {
  /** A normalised reference (`mcr.microsoft.com/windows/nanoserver:ltsc2022`), or a name for host images. */
  reference: string;
  /** Content id (`sha256:...`) where the source has one. */
  id: string;
  source: ImageSourceName;
  os: 'windows';
  /** Full Windows version of the image (`10.0.20348.2227`) when known. */
  osVersion?: string;
  /** The build number (`20348`) when known. */
  build?: number;
  sizeBytes?: number;
  created?: string;
  /** Read-only layers, the image's top layer first and the base OS layer last. */
  layers: LayerRef[];
}

/** A place images come from. Reading never modifies the source. */
export interface ImageSource {
  readonly name: ImageSourceName;
  /** Everything this source offers; an absent source (not installed) yields `[]`. */
  list(): Promise<ImageRecord[]>;
  /** The image for a reference, or `undefined` when this source does not have it. */
  resolve(reference: string): Promise<ImageRecord | undefined>;
}

/**
 * Imports one extracted layer (transport form, with `Files\`) into `layerPath`
 * on top of `parents` (HcsImportLayer). Injected so image code is testable
 * without Windows.
 */
export type LayerImporter = (layerPath: string, sourcePath: string, parents: LayerRef[]) => Promise<void>;

/** Progress of a long step, for progress bars. */
export interface Progress {
  /** What is moving: a layer digest, a file, a step name. */
  item: string;
  phase: string;
  done: number;
  total?: number;
}
