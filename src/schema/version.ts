/**
 * Schema-version negotiation: pick the `SchemaVersion` to declare from what the
 * host supports (`HcsGetServiceProperties({"PropertyTypes":["Basic"]})` →
 * `SupportedSchemaVersions`) and check that every requested feature exists at
 * that version.
 *
 * Minimum versions come from the "NewInVersion" column of Microsoft's
 * `virtualization/api/hcs/SchemaReference.md` (MicrosoftDocs/Virtualization-Documentation),
 * whose version map is: 2.0/2.1 = Windows 10 1809, 2.2 = 1903, 2.3 = 2004,
 * 2.4/2.5 = Windows Server 2022 (20348), 2.6 = Windows 11 21H2 (22000).
 */
import { InvalidArgumentError, UnavailableError } from '../internal/errors.js';
import { MAX_SCHEMA_MINOR } from './builders/common.js';
import type { Version } from './generated/hcs.js';

/** The highest version our documents are written for. */
export const MAX_EMITTED_SCHEMA_VERSION: Readonly<Version> = Object.freeze({
  Major: 2,
  Minor: MAX_SCHEMA_MINOR,
});

export interface FeatureRequirement {
  /** Lowest schema version that defines the feature. */
  minVersion: Version;
  /** What it is and where the minimum comes from. */
  source: string;
}

const v = (Minor: number): Version => ({ Major: 2, Minor });

/** Feature name → minimum schema version. */
export const SCHEMA_FEATURES: Readonly<Record<string, FeatureRequirement>> = Object.freeze({
  GpuConfiguration: {
    minVersion: v(0),
    source:
      'GpuConfiguration fields are 2.0 in SchemaReference.md; GPU-PV itself also needs a host build and driver that support it (UNCONFIRMED minimum build)',
  },
  RestoreFromTemplate: {
    minVersion: v(1),
    source: 'RestoreState.TemplateSystemId, 2.1 (SchemaReference.md)',
  },
  GuestState: { minVersion: v(1), source: 'GuestState.*, 2.1 (SchemaReference.md)' },
  SaveOptions: { minVersion: v(1), source: 'SaveOptions.*, 2.1 (SchemaReference.md)' },
  LinuxKernelDirect: { minVersion: v(2), source: 'Chipset.LinuxKernelDirect, 2.2 (SchemaReference.md)' },
  MemoryBackingPageSize: {
    minVersion: v(2),
    source: 'VirtualMachine_Memory.BackingPageSize, 2.2 (SchemaReference.md)',
  },
  CrashGuest: { minVersion: v(3), source: 'CrashOptions.Type, 2.3 (SchemaReference.md)' },
  SecureBootTemplate: { minVersion: v(3), source: 'Uefi.ApplySecureBootTemplate, 2.3 (SchemaReference.md)' },
  SupportCloudFiles: {
    minVersion: v(3),
    source: 'MappedDirectory / VirtualSmbShareOptions.SupportCloudFiles, 2.3 (SchemaReference.md)',
  },
  VirtualPci: { minVersion: v(3), source: 'Devices.VirtualPci, 2.3 (SchemaReference.md)' },
  HostTimeZone: { minVersion: v(4), source: 'GuestConnection.UseHostTimeZone, 2.4 (SchemaReference.md)' },
  FaultClusterSizeShift: {
    minVersion: v(4),
    source: 'VirtualMachine_Memory.FaultClusterSizeShift, 2.4 (SchemaReference.md)',
  },
  WindowsSandboxExtensions: {
    minVersion: v(4),
    source:
      'RunInSilo, LaunchOptions, Memory.Backing, SharedMemoryMB: seen in the 2.4 document Windows Sandbox sends (MouriDocs docs/4); really gated by build (Windows 11 22H2+)',
  },
  ShutdownOptions: { minVersion: v(5), source: 'ShutdownOptions.*, 2.5 (SchemaReference.md)' },
  IntegrationServices: { minVersion: v(5), source: 'VirtualMachine.Services, 2.5 (SchemaReference.md)' },
  PropertyQueries: { minVersion: v(5), source: 'System_PropertyQuery.Queries, 2.5 (SchemaReference.md)' },
  CpuGroup: { minVersion: v(5), source: 'VirtualMachine_Processor.CpuGroup, 2.5 (SchemaReference.md)' },
  Hibernation: { minVersion: v(5), source: 'Chipset.EnableHibernation, 2.5 (SchemaReference.md)' },
  SparseFiles: { minVersion: v(6), source: 'Attachment.AlwaysAllowSparseFiles, 2.6 (SchemaReference.md)' },
});

export type SchemaFeature = keyof typeof SCHEMA_FEATURES;

/** The host cannot accept a document that uses a requested feature. */
export class UnsupportedFeatureError extends UnavailableError {
  readonly feature: string;
  readonly requiredVersion: Version;
  readonly hostMaxVersion: Version | undefined;

  constructor(
    feature: string,
    requiredVersion: Version,
    hostMaxVersion: Version | undefined,
    detail?: string,
  ) {
    const host = hostMaxVersion ? formatVersion(hostMaxVersion) : 'no 2.x version';
    super(
      'UNSUPPORTED_FEATURE',
      `${feature} needs HCS schema ${formatVersion(requiredVersion)} or newer, but this host supports ${host}${
        detail ? ` (${detail})` : ''
      }.`,
    );
    this.feature = feature;
    this.requiredVersion = requiredVersion;
    this.hostMaxVersion = hostMaxVersion;
  }
}

export function formatVersion(version: Version): string {
  return `${version.Major ?? '?'}.${version.Minor ?? '?'}`;
}

export function compareVersions(a: Version, b: Version): number {
  return (a.Major ?? 0) - (b.Major ?? 0) || (a.Minor ?? 0) - (b.Minor ?? 0);
}

/**
 * Picks the highest schema version both the host and this library support
 * (a host entry `2.X` means 2.0 through 2.X), and checks each requested feature
 * against it. Throws `UnsupportedFeatureError` (code `UNSUPPORTED_FEATURE`) when a
 * feature needs more, or when the host supports no 2.x version at all.
 */
export function negotiateSchemaVersion(
  hostSupported: readonly Version[],
  features: readonly string[] = [],
): Version {
  if (!Array.isArray(hostSupported) || hostSupported.length === 0) {
    throw new InvalidArgumentError('hostSupported', 'a non-empty array of { Major, Minor }', hostSupported);
  }
  hostSupported.forEach((ver, i) => {
    if (
      typeof ver !== 'object' ||
      ver === null ||
      !Number.isInteger(ver.Major) ||
      !Number.isInteger(ver.Minor) ||
      (ver.Major as number) < 0 ||
      (ver.Minor as number) < 0
    ) {
      throw new InvalidArgumentError(`hostSupported[${i}]`, '{ Major: integer, Minor: integer }', ver);
    }
  });
  if (!Array.isArray(features))
    throw new InvalidArgumentError('features', 'an array of feature names', features);
  const known = Object.keys(SCHEMA_FEATURES);
  const requirements = features.map((f, i) => {
    const req = typeof f === 'string' && Object.hasOwn(SCHEMA_FEATURES, f) ? SCHEMA_FEATURES[f] : undefined;
    if (!req) throw new InvalidArgumentError(`features[${i}]`, `one of ${known.join(', ')}`, f);
    return { feature: f, ...req };
  });

  const v2 = hostSupported.filter((ver) => ver.Major === 2);
  if (v2.length === 0) {
    throw new UnsupportedFeatureError('HCS schema 2.x documents', { Major: 2, Minor: 0 }, undefined);
  }
  const hostMax = v2.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b));
  const chosen: Version = { Major: 2, Minor: Math.min(hostMax.Minor as number, MAX_SCHEMA_MINOR) };
  for (const r of requirements) {
    if (compareVersions(r.minVersion, chosen) > 0) {
      throw new UnsupportedFeatureError(r.feature, r.minVersion, {
        Major: 2,
        Minor: hostMax.Minor as number,
      });
    }
  }
  return chosen;
}
