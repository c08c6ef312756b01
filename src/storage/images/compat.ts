import { InvalidArgumentError } from '../../internal/errors.js';
import { CONTAINER_ISOLATIONS } from '../../internal/isolation.js';
import { ImageCompatibilityError, type Isolation } from './errors.js';

/**
 * Which Windows container image builds run on which host builds, checked
 * before HCS is asked (which would fail with `0xC0370101`, "The operating
 * system of the container does not match the operating system of the host").
 *
 * Sources:
 * - Microsoft, "Windows container version compatibility"
 *   (https://learn.microsoft.com/virtualization/windowscontainers/deploy-containers/version-compatibility):
 *   process isolation needs the image's build to match the host's; Hyper-V
 *   isolation runs images of the host's build or older; revisions need not
 *   match from 1809 on, but Windows Server 2016 (14393) hosts and images should
 *   have the same revision; from Windows Server 2022 and Windows 11, Windows
 *   Server 2022 images run process-isolated on Windows 11 hosts.
 * - hcsshim `osversion.CheckHostAndContainerCompat` (what containerd and
 *   Docker enforce): below 20348 the builds must be equal; from 20348 on, a
 *   host runs images from the latest LTSC build strictly below its own
 *   (20348 for a 20348 host) up to its own build. LTSC builds: 20348 (Windows
 *   Server 2022), 26100 (Windows Server 2025).
 * - Docker: Windows 10 clients before 1809 (17763) run containers only with
 *   Hyper-V isolation.
 */

/** Builds of the LTSC releases whose images later hosts keep running (stable ABI). */
export const COMPAT_LTSC_BUILDS: readonly number[] = [20348, 26100];

export const BUILDS = {
  WS2016: 14393,
  RS5: 17763,
  WS2019: 17763,
  WS2022: 20348,
  WIN11_21H2: 22000,
  WIN11_22H2: 22621,
  WIN11_23H2: 22631,
  WS2025: 26100,
  WIN11_24H2: 26100,
} as const;

/** The oldest build that runs Windows containers at all (Windows Server 2016 / Windows 10 1607). */
export const MIN_CONTAINER_BUILD = 14393;

export interface CompatibilityInput {
  /** Build of the image (`20348` of `10.0.20348.2227`). */
  imageBuild: number;
  /** Build of the host. */
  hostBuild: number;
  isolation: Isolation;
  /** Windows Server (`true`) or client (`false`); unknown when absent. Client hosts before 1809 have no process isolation. */
  hostIsServer?: boolean;
  /** Revision (the fourth part) of the image, for the Windows Server 2016 rule. */
  imageRevision?: number;
  /** Revision of the host. */
  hostRevision?: number;
}

export interface CompatibilityResult {
  ok: true;
  isolation: Isolation;
  /** Supported-but-risky combinations (e.g. mismatched 14393 revisions). */
  warnings: string[];
}

/**
 * Checks that an image can run on this host under `isolation`. Returns the
 * result (with warnings) or throws `ImageCompatibilityError` naming both
 * builds, the isolation and the isolation that would work.
 */
export function checkCompatibility(input: CompatibilityInput): CompatibilityResult {
  validate(input);
  const refusal = refuse(input, input.isolation);
  if (refusal !== undefined) {
    const other: Isolation = input.isolation === 'process' ? 'hyperv' : 'process';
    throw new ImageCompatibilityError({
      imageBuild: input.imageBuild,
      hostBuild: input.hostBuild,
      isolation: input.isolation,
      wouldWork: refuse(input, other) === undefined ? other : undefined,
      reason: refusal,
    });
  }
  const warnings: string[] = [];
  if (
    input.isolation === 'process' &&
    input.hostBuild === BUILDS.WS2016 &&
    input.imageRevision !== undefined &&
    input.hostRevision !== undefined &&
    input.imageRevision !== input.hostRevision
  ) {
    warnings.push(
      `Windows Server 2016 images should have the host's revision (image ${input.imageRevision}, host ` +
        `${input.hostRevision}): the container might not start`,
    );
  }
  return { ok: true, isolation: input.isolation, warnings };
}

/** `checkCompatibility` as a boolean. */
export function isCompatible(input: CompatibilityInput): boolean {
  validate(input);
  return refuse(input, input.isolation) === undefined;
}

/** The isolations that can run an image of `imageBuild` on a `hostBuild` host, process first. */
export function supportedIsolations(input: Omit<CompatibilityInput, 'isolation'>): Isolation[] {
  return CONTAINER_ISOLATIONS.filter((isolation) => isCompatible({ ...input, isolation }));
}

/** The oldest image build a host can run with process isolation. */
export function oldestProcessIsolatedBuild(hostBuild: number): number {
  if (hostBuild < BUILDS.WS2022) return hostBuild;
  let oldest = BUILDS.WS2022 as number;
  for (const ltsc of COMPAT_LTSC_BUILDS) if (hostBuild > ltsc) oldest = ltsc;
  return oldest;
}

/** Why `isolation` cannot run the image, or `undefined` when it can. */
function refuse(input: CompatibilityInput, isolation: Isolation): string | undefined {
  const { imageBuild, hostBuild } = input;
  if (hostBuild < MIN_CONTAINER_BUILD)
    return `Windows containers need a host of build ${MIN_CONTAINER_BUILD} or later`;
  if (imageBuild < MIN_CONTAINER_BUILD)
    return `no Windows container image predates build ${MIN_CONTAINER_BUILD}`;
  if (isolation === 'hyperv') {
    if (imageBuild > hostBuild) return 'Hyper-V isolation runs images of the host build or older, not newer';
    return undefined;
  }
  if (input.hostIsServer === false && hostBuild < BUILDS.RS5) {
    return 'Windows 10 clients before version 1809 (17763) have no process isolation';
  }
  if (imageBuild > hostBuild) return 'process isolation never runs an image newer than the host';
  const oldest = oldestProcessIsolatedBuild(hostBuild);
  if (imageBuild < oldest) {
    return hostBuild < BUILDS.WS2022
      ? 'process isolation needs the image build to equal the host build'
      : `process isolation on this host runs images of builds ${oldest} to ${hostBuild}`;
  }
  return undefined;
}

function validate(input: CompatibilityInput): void {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError('options', '{ imageBuild, hostBuild, isolation }', input);
  }
  for (const field of ['imageBuild', 'hostBuild'] as const) {
    const value = input[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > 0xffff) {
      throw new InvalidArgumentError(field, 'a Windows build number (e.g. 20348)', value);
    }
  }
  for (const field of ['imageRevision', 'hostRevision'] as const) {
    const value = input[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
      throw new InvalidArgumentError(field, 'a non-negative integer revision', value);
    }
  }
  if (!(CONTAINER_ISOLATIONS as readonly unknown[]).includes(input.isolation)) {
    throw new InvalidArgumentError('isolation', "'process' or 'hyperv'", input.isolation);
  }
}
