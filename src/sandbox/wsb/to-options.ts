import { InvalidArgumentError } from '../../internal/errors.js';
import { isSandboxIsolation, SANDBOX_ISOLATIONS, type SandboxIsolation } from '../../internal/isolation.js';
import {
  MEMORY_VALUES,
  WSB_MAX_MEMORY_MB,
  type WsbConfig,
  type WsbGpu,
  type WsbPosition,
  type WsbSettingName,
  type WsbToggle,
  type WsbToggleKey,
} from './config.js';
import { hostPathProblem, sandboxPathProblem, windowsPathKey } from './paths.js';

/**
 * The mapping of a parsed `.wsb` file to sandbox options, with a warning for
 * each setting that what will run it cannot honour.
 */

/** One folder shared into a sandbox. */
export interface WsbFolderOption {
  hostPath: string;
  sandboxPath: string;
  readOnly: boolean;
}

/**
 * Plain sandbox options derived from a `.wsb` file. The booleans are present
 * only when the file says `Enable` (true) or `Disable` (false) explicitly;
 * absent means "the default of whatever runs it".
 */
export interface WsbSandboxOptions {
  memoryMB?: number;
  network: 'nat' | 'none';
  mappedFolders: WsbFolderOption[];
  logonCommand?: string;
  gpu?: boolean;
  clipboard?: boolean;
  audioInput?: boolean;
  videoInput?: boolean;
  printerRedirection?: boolean;
  protectedClient?: boolean;
}

/** Options given beside the file (CLI flags); they win over the file. */
export interface WsbOverrides {
  /** What will run it; warnings depend on it. Default `process`. */
  isolation?: SandboxIsolation;
  memoryMB?: number;
  network?: 'nat' | 'none';
  logonCommand?: string;
  /** Added to the file's folders; one with the same `sandboxPath` replaces the file's. */
  mappedFolders?: readonly WsbFolderOption[];
}

/** A setting of the file that what will run it cannot honour (or honours differently). */
export interface WsbWarning {
  setting: WsbSettingName;
  /** The value written in the file. */
  value: string;
  message: string;
  fileName: string;
  line: number;
  column: number;
}

/**
 * Windows Sandbox's smallest `MemoryInMB`. Microsoft's configuration doc: "If
 * the memory value specified is insufficient to boot a sandbox, it will be
 * automatically increased to the required minimum amount."
 * (https://learn.microsoft.com/windows/security/application-security/application-isolation/windows-sandbox/windows-sandbox-configure-using-wsb-file)
 */
export const WSB_MIN_MEMORY_MB = 2048;

type WsbFlag = 'gpu' | 'clipboard' | 'audioInput' | 'videoInput' | 'printerRedirection' | 'protectedClient';

export interface WsbMapping {
  options: WsbSandboxOptions;
  warnings: WsbWarning[];
}

const NOT_IN_CONTAINERS: readonly {
  setting: WsbSettingName;
  key: 'vGPU' | WsbToggleKey;
  what: string;
}[] = [
  { setting: 'vGPU', key: 'vGPU', what: 'a virtual GPU is not given to containers; software rendering only' },
  { setting: 'AudioInput', key: 'audioInput', what: 'containers have no audio devices' },
  { setting: 'VideoInput', key: 'videoInput', what: 'containers have no camera devices' },
  {
    setting: 'PrinterRedirection',
    key: 'printerRedirection',
    what: 'host printers are not shared into containers',
  },
  {
    setting: 'ClipboardRedirection',
    key: 'clipboardRedirection',
    what: 'containers have no desktop session, so no clipboard to share',
  },
  {
    setting: 'ProtectedClient',
    key: 'protectedClient',
    what: 'there is no remote-desktop client to run in an AppContainer',
  },
];

/**
 * Maps a parsed `.wsb` to sandbox options. Settings that container isolation
 * (`process`, `hyperv`) cannot honour are kept in the options and listed in
 * `warnings`, never dropped silently.
 *
 * @throws InvalidArgumentError for a bad override.
 */
export function wsbToSandboxOptions(config: WsbConfig, overrides: WsbOverrides = {}): WsbMapping {
  const isolation = overrides.isolation ?? 'process';
  if (!isSandboxIsolation(isolation)) {
    throw new InvalidArgumentError(
      'isolation',
      SANDBOX_ISOLATIONS.map((i) => `'${i}'`).join(', '),
      isolation,
    );
  }
  checkOverrides(overrides);

  const byTarget = new Map<string, WsbFolderOption>();
  for (const folder of config.mappedFolders) {
    byTarget.set(windowsPathKey(folder.sandboxFolder), {
      hostPath: folder.hostFolder,
      sandboxPath: folder.sandboxFolder,
      readOnly: folder.readOnly,
    });
  }
  for (const folder of overrides.mappedFolders ?? []) {
    byTarget.set(windowsPathKey(folder.sandboxPath), { ...folder });
  }

  const options: WsbSandboxOptions = {
    network: overrides.network ?? (config.networking === 'Disable' ? 'none' : 'nat'),
    mappedFolders: [...byTarget.values()],
  };
  // Windows Sandbox raises a too-small MemoryInMB to its minimum: the least a Windows
  // desktop VM boots with. So does a `vm` sandbox (with a warning below); a container
  // boots no desktop, and takes the file's value as written.
  const fileMemoryRaised =
    isolation === 'vm' && config.memoryInMB !== undefined && config.memoryInMB < WSB_MIN_MEMORY_MB;
  const fileMemoryMB = fileMemoryRaised ? WSB_MIN_MEMORY_MB : config.memoryInMB;
  const memoryMB = overrides.memoryMB ?? fileMemoryMB;
  if (memoryMB !== undefined) options.memoryMB = memoryMB;
  const logonCommand = overrides.logonCommand ?? config.logonCommand;
  if (logonCommand !== undefined) options.logonCommand = logonCommand;
  const flags: readonly [WsbFlag, WsbToggle | WsbGpu | undefined][] = [
    ['gpu', config.vGPU],
    ['clipboard', config.clipboardRedirection],
    ['audioInput', config.audioInput],
    ['videoInput', config.videoInput],
    ['printerRedirection', config.printerRedirection],
    ['protectedClient', config.protectedClient],
  ];
  for (const [key, value] of flags) {
    if (value !== undefined && value !== 'Default') options[key] = value !== 'Disable';
  }

  const warnings: WsbWarning[] = [];
  const warn = (setting: WsbSettingName, value: string, message: string, at?: WsbPosition) => {
    const position = at ?? config.positions[setting] ?? { line: 1, column: 1 };
    warnings.push({ setting, value, message, fileName: config.fileName, ...position });
  };
  // A change we make to the file's value, so warned of whatever runs it.
  if (fileMemoryRaised && overrides.memoryMB === undefined) {
    warn(
      'MemoryInMB',
      String(config.memoryInMB),
      `<MemoryInMB>${config.memoryInMB}</MemoryInMB> is below Windows Sandbox's minimum of ` +
        `${WSB_MIN_MEMORY_MB} MB; raised to ${WSB_MIN_MEMORY_MB} MB, as Windows Sandbox does.`,
    );
  }
  if (isolation === 'vm') {
    // A VM honours memory and networking today; what acts inside the guest waits for the agent.
    for (const { setting, key } of NOT_IN_CONTAINERS) {
      const value = config[key];
      if (value === 'Enable' || value === 'EnableVendorExtensions') {
        warn(
          setting,
          value,
          `<${setting}>${value}</${setting}> is not given to hcs-sandbox's VMs yet; ignored.`,
        );
      }
    }
    for (const folder of options.mappedFolders) {
      warn(
        'MappedFolders',
        folder.hostPath,
        `${folder.hostPath} is not mapped: folders reach a VM through hcs-sandbox's guest agent (not there yet).`,
      );
    }
    return { options, warnings };
  }

  for (const { setting, key, what } of NOT_IN_CONTAINERS) {
    const value = config[key];
    if (value === 'Enable' || value === 'EnableVendorExtensions') {
      warn(
        setting,
        value,
        `<${setting}>${value}</${setting}> is ignored with ${isolation} isolation: ${what}.`,
      );
    }
  }
  if (config.logonCommand !== undefined && overrides.logonCommand === undefined) {
    warn(
      'LogonCommand',
      config.logonCommand,
      `The logon command runs when the ${isolation}-isolated container has started, as the container's ` +
        'default user (not WDAGUtilityAccount, and with no desktop session).',
    );
  }
  for (const folder of config.mappedFolders) {
    const kept = byTarget.get(windowsPathKey(folder.sandboxFolder));
    if (folder.sandboxFolderDefaulted && kept?.hostPath === folder.hostFolder) {
      warn(
        'MappedFolders',
        folder.hostFolder,
        `${folder.hostFolder} has no <SandboxFolder>, so it is mapped to ${folder.sandboxFolder} ` +
          "(Windows Sandbox's desktop default), a path container images do not otherwise have.",
        folder.position,
      );
    }
  }
  return { options, warnings };
}

function checkOverrides(overrides: WsbOverrides): void {
  const { memoryMB, network, logonCommand, mappedFolders } = overrides;
  if (
    memoryMB !== undefined &&
    (!Number.isInteger(memoryMB) || memoryMB < 1 || memoryMB > WSB_MAX_MEMORY_MB)
  ) {
    throw new InvalidArgumentError('memoryMB', MEMORY_VALUES, memoryMB);
  }
  if (network !== undefined && network !== 'nat' && network !== 'none') {
    throw new InvalidArgumentError('network', "'nat' or 'none'", network);
  }
  if (logonCommand !== undefined && (typeof logonCommand !== 'string' || logonCommand.trim() === '')) {
    throw new InvalidArgumentError('logonCommand', 'a non-empty command line', logonCommand);
  }
  (mappedFolders ?? []).forEach((folder, i) => {
    const hostProblem =
      typeof folder.hostPath === 'string' ? hostPathProblem(folder.hostPath) : 'not a string';
    if (hostProblem || folder.hostPath === '') {
      throw new InvalidArgumentError(
        `mappedFolders[${i}].hostPath`,
        'an absolute host path',
        folder.hostPath,
        hostProblem,
      );
    }
    const sandboxProblem =
      typeof folder.sandboxPath === 'string' ? sandboxPathProblem(folder.sandboxPath) : 'not a string';
    if (sandboxProblem) {
      throw new InvalidArgumentError(
        `mappedFolders[${i}].sandboxPath`,
        'an absolute path in the sandbox (C:\\...)',
        folder.sandboxPath,
        sandboxProblem,
      );
    }
    if (typeof folder.readOnly !== 'boolean') {
      throw new InvalidArgumentError(`mappedFolders[${i}].readOnly`, 'true or false', folder.readOnly);
    }
  });
}
