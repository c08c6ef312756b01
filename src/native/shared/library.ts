import { release } from 'node:os';
import type { LibraryHandle } from 'koffi';
import { HcsUnavailableError } from './errors.js';
import { koffi } from './koffi-module.js';

/** Windows 10 1809 / Windows Server 2019: the first build with computecore.dll. */
const MIN_BUILD = 17763;

const FEATURE_HINT: Record<string, string> = {
  'computecore.dll':
    'Enable the Containers feature (process isolation) and/or Hyper-V (Hyper-V isolation and VMs) from an elevated PowerShell: ' +
    '`Enable-WindowsOptionalFeature -Online -FeatureName Containers,Microsoft-Hyper-V -All`, then restart.',
  'computestorage.dll':
    'Enable the Containers feature: `Enable-WindowsOptionalFeature -Online -FeatureName Containers -All`, then restart.',
  'computenetwork.dll':
    'Enable the Containers feature (it brings the Host Network Service): ' +
    '`Enable-WindowsOptionalFeature -Online -FeatureName Containers -All`, then restart.',
};

/**
 * Loads a system DLL by name, as Windows would (system32 first), and explains a
 * failure in the user's terms. Never called at import time: only on first use.
 */
export function loadSystemLibrary(name: string): LibraryHandle {
  if (process.platform !== 'win32') {
    throw new HcsUnavailableError(
      'not-windows',
      name,
      `hcs-sandbox drives the Windows Host Compute Service and runs on Windows only (this is ${process.platform}). ` +
        'On Linux, use the simulated host for development: see docs/testing.md.',
    );
  }
  const build = windowsBuild();
  if (build !== undefined && build < MIN_BUILD) {
    throw new HcsUnavailableError(
      'windows-too-old',
      name,
      `This Windows build (${build}) is older than 1809 (build ${MIN_BUILD}), the first with ${name}. ` +
        'Use Windows 10 1809 / Windows Server 2019 or newer.',
    );
  }
  try {
    return koffi().load(name);
  } catch (error) {
    throw new HcsUnavailableError(
      'dll-missing',
      name,
      `Cannot load ${name}: ${(error as Error).message}. ${FEATURE_HINT[name] ?? ''}`.trim(),
      error,
    );
  }
}

function windowsBuild(): number | undefined {
  const parts = release().split('.');
  const build = Number(parts[2]);
  return Number.isInteger(build) ? build : undefined;
}
