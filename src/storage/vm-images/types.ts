/** How a VM image was made: the Windows media it was applied from. */
export interface VmImageSource {
  kind: 'iso' | 'wim';
  /** The ISO or WIM/ESD file as given to `vm image build` (absolute). */
  path: string;
  /** The image index inside the WIM (1-based). */
  index: number;
}

/** The guest agent an image carries: SetupComplete.cmd installs it as a service at a sandbox's first boot. */
export interface VmImageAgent {
  /** The agent.exe staged (absolute host path when it was staged). */
  from: string;
  /** The hcs-sandbox version that staged it. */
  stagedBy: string;
  stagedAt: string;
}

/**
 * One Windows VM image: a bootable, sysprepped, fixed-size base VHDX in the
 * store, built once from Windows media. Each VM sandbox boots from its own
 * differencing VHDX over `vhdxPath`, so the base is never written after its
 * build.
 */
export interface VmImageRecord {
  version: 1;
  /** The image's name (`[a-z0-9][a-z0-9._-]*`), what `create({ image })` names. */
  name: string;
  /** `building` until every build step is done; only a `ready` image boots. */
  status: 'building' | 'ready';
  /** Absolute path of the base VHDX (`<root>\vm-images\<name>\base.vhdx`). */
  vhdxPath: string;
  /** The VHDX's size on disk in bytes (fixed-size, so also its capacity plus metadata). */
  sizeBytes: number;
  /** Windows build number of the applied image (e.g. 26100), from the WIM's metadata. */
  build?: number;
  /** Edition id of the applied image (e.g. `Professional`, `ServerDatacenter`). */
  edition?: string;
  /** Display name of the WIM image (e.g. `Windows 11 Pro`). */
  displayName?: string;
  source: VmImageSource;
  /** The build steps already done, in order (a resumed build skips them). */
  stepsDone: string[];
  /** Process that runs (or ran) the build: a `building` image whose process is gone can be resumed or removed. */
  builderPid?: number;
  createdAt: string;
  /** When the build finished. */
  readyAt?: string;
  /** The guest agent staged in the image; absent: none (its sandboxes have a screen but no commands or files). */
  agent?: VmImageAgent;
}
