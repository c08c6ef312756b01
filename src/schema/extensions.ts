/**
 * Fields hcs-sandbox emits that are newer than (or missing from) Microsoft's
 * published OpenAPI schema (`hcs-schema-win11-21H2.json`, "2.4"), expressed as
 * extensions of the generated types, plus a JSON-schema fragment so the strict
 * validator (`validate.ts`) can check them too.
 *
 * Sources:
 * - [MD4] MouriNaruto/MouriDocs `docs/4/ReadMe.md`: a dump of the document the
 *   Windows Sandbox service sends (Owner "Madrid", SchemaVersion 2.4) on Windows 11
 *   (22H2/23H2-era builds). The same page links the per-build
 *   `Microsoft.HyperV.Schema_<build>.dll` assemblies that define these fields.
 * - [hcsshim] microsoft/hcsshim `internal/hcs/schema2/*.go` (`virtual_machine_memory.go`
 *   has `Backing`, `windows_crash_reporting.go` has `DumpType`).
 * - [hcs-rs] rafawo/hcs-rs, which lists the `LaunchOptions.Type` values.
 *
 * These fields are gated by the Windows **build**, not by the declared
 * SchemaVersion: a build that does not know them rejects the document with
 * HCS_E_INVALID_JSON. Only send them on builds where they were observed.
 */
import type * as Hcs from './generated/hcs.js';

/** `VirtualMachine_Memory.Backing` ([hcsshim] `virtual_machine_memory.go`; Sandbox sends `"Virtual"` [MD4]). */
export type MemoryBackingType = 'Physical' | 'Virtual' | 'Hybrid';

/** `WindowsCrashReporting.DumpType`: `"Summary"` in Windows Sandbox [MD4], `"Full"` in hcsshim `create_wcow.go`. */
export type CrashDumpType = 'Full' | 'Summary';

/** `VirtualMachine.LaunchOptions.Type` ([hcs-rs]; Sandbox sends `"None"` [MD4]). */
export type LaunchType = 'Default' | 'None' | 'AppContainer';

export interface VirtualMachineMemoryExt extends Hcs.VirtualMachine_Memory {
  /** Physical, virtual (pageable) or hybrid backing. [hcsshim], [MD4] (Windows 11 22H2+). */
  Backing?: MemoryBackingType;
  /** Undocumented; Windows Sandbox [MD4] (Windows 11 22H2+). */
  EnablePrivateCompressionStore?: boolean;
  /** Shared memory region size in MB; Windows Sandbox [MD4] (Windows 11 22H2+). */
  SharedMemoryMB?: number;
  /** SIDs allowed to open the shared memory region; Windows Sandbox [MD4]. */
  SharedMemoryAccessSids?: string[];
  /** Undocumented; Windows Sandbox [MD4] (Windows 11 22H2+). */
  EnableEpf?: boolean;
}

export interface VirtualMachineProcessorExt extends Hcs.VirtualMachine_Processor {
  /** Undocumented; Windows Sandbox [MD4]. */
  SynchronizeHostFeatures?: boolean;
  /** Undocumented; Windows Sandbox [MD4]. */
  EnableSchedulerAssist?: boolean;
  /** Undocumented; Windows Sandbox sends 10 [MD4]. */
  DefaultVpCpuPriority?: number;
  /** Undocumented; Windows Sandbox [MD4]. */
  EnableProcessorIdling?: boolean;
}

export interface TopologyExt extends Omit<Hcs.Topology, 'Memory' | 'Processor'> {
  Memory?: VirtualMachineMemoryExt;
  Processor?: VirtualMachineProcessorExt;
}

export interface WindowsCrashReportingExt extends Hcs.WindowsCrashReporting {
  /** [hcsshim] `windows_crash_reporting.go`, Windows Sandbox [MD4]. */
  DumpType?: CrashDumpType;
}

export interface GuestCrashReportingExt extends Omit<Hcs.GuestCrashReporting, 'WindowsCrashSettings'> {
  WindowsCrashSettings?: WindowsCrashReportingExt;
}

export interface DevicesExt extends Omit<Hcs.Devices, 'GuestCrashReporting'> {
  GuestCrashReporting?: GuestCrashReportingExt;
}

/** `VirtualMachine.RunInSilo`: run the VM worker inside a silo built on this image. Windows Sandbox [MD4]. */
export interface RunInSilo {
  SiloBaseOsPath?: string;
  NotifySiloJobCreated?: boolean;
}

/** `VirtualMachine.LaunchOptions`. Windows Sandbox [MD4], values from [hcs-rs]. */
export interface LaunchOptions {
  Type?: LaunchType;
}

export interface VirtualMachineExt extends Omit<Hcs.VirtualMachine, 'ComputeTopology' | 'Devices'> {
  ComputeTopology?: TopologyExt;
  Devices?: DevicesExt;
  /** Windows Sandbox [MD4] (Windows 11 22H2+); undocumented. */
  RunInSilo?: RunInSilo;
  /** Windows Sandbox [MD4] (Windows 11 22H2+); undocumented. */
  LaunchOptions?: LaunchOptions;
}

/**
 * The compute-system document the builders return: `ComputeSystem` with the
 * extension fields, and `HostedSystem` typed (the schema types it as "Any").
 */
export interface ComputeSystemDocument extends Omit<Hcs.ComputeSystem, 'VirtualMachine' | 'HostedSystem'> {
  VirtualMachine?: VirtualMachineExt;
  HostedSystem?: Hcs.HostedSystem;
}

/** Where each extension field comes from (for docs and tests). */
export const HCS_EXTENSION_FIELDS: ReadonlyArray<{
  definition: string;
  property: string;
  source: string;
}> = [
  {
    definition: 'VirtualMachine_Memory',
    property: 'Backing',
    source: 'hcsshim schema2; Windows Sandbox [MD4]',
  },
  {
    definition: 'VirtualMachine_Memory',
    property: 'EnablePrivateCompressionStore',
    source: 'Windows Sandbox [MD4]',
  },
  { definition: 'VirtualMachine_Memory', property: 'SharedMemoryMB', source: 'Windows Sandbox [MD4]' },
  {
    definition: 'VirtualMachine_Memory',
    property: 'SharedMemoryAccessSids',
    source: 'Windows Sandbox [MD4]',
  },
  { definition: 'VirtualMachine_Memory', property: 'EnableEpf', source: 'Windows Sandbox [MD4]' },
  {
    definition: 'VirtualMachine_Processor',
    property: 'SynchronizeHostFeatures',
    source: 'Windows Sandbox [MD4]',
  },
  {
    definition: 'VirtualMachine_Processor',
    property: 'EnableSchedulerAssist',
    source: 'Windows Sandbox [MD4]',
  },
  {
    definition: 'VirtualMachine_Processor',
    property: 'DefaultVpCpuPriority',
    source: 'Windows Sandbox [MD4]',
  },
  {
    definition: 'VirtualMachine_Processor',
    property: 'EnableProcessorIdling',
    source: 'Windows Sandbox [MD4]',
  },
  {
    definition: 'WindowsCrashReporting',
    property: 'DumpType',
    source: 'hcsshim schema2; Windows Sandbox [MD4]',
  },
  { definition: 'VirtualMachine', property: 'RunInSilo', source: 'Windows Sandbox [MD4]' },
  {
    definition: 'VirtualMachine',
    property: 'LaunchOptions',
    source: 'Windows Sandbox [MD4]; values from hcs-rs',
  },
];

const SID = { type: 'string', pattern: '^S-1-[0-9]+(-[0-9]+)+$' };
const UINT32 = { type: 'integer', minimum: 0, maximum: 4294967295 };
// 2 ** 64 - 1 rounds to 2 ** 64 as a double; JavaScript numbers cannot carry uint64 exactly anyway.
const UINT64 = { type: 'integer', minimum: 0, maximum: 2 ** 64 - 1 };

/**
 * JSON-schema fragment for the extension fields: `properties` are merged into the
 * named generated definitions, `definitions` are added. Objects here are strict
 * (`additionalProperties: false`) like the generated ones.
 */
export const HCS_SCHEMA_EXTENSIONS: {
  readonly properties: Readonly<Record<string, Readonly<Record<string, object>>>>;
  readonly definitions: Readonly<Record<string, object>>;
} = {
  properties: {
    VirtualMachine_Memory: {
      Backing: { type: 'string', enum: ['Physical', 'Virtual', 'Hybrid'] },
      EnablePrivateCompressionStore: { type: 'boolean' },
      SharedMemoryMB: UINT64,
      SharedMemoryAccessSids: { type: 'array', items: SID },
      EnableEpf: { type: 'boolean' },
    },
    VirtualMachine_Processor: {
      SynchronizeHostFeatures: { type: 'boolean' },
      EnableSchedulerAssist: { type: 'boolean' },
      DefaultVpCpuPriority: UINT32,
      EnableProcessorIdling: { type: 'boolean' },
    },
    WindowsCrashReporting: {
      DumpType: { type: 'string', enum: ['Full', 'Summary'] },
    },
    VirtualMachine: {
      RunInSilo: { $ref: '#/definitions/RunInSilo' },
      LaunchOptions: { $ref: '#/definitions/LaunchOptions' },
    },
  },
  definitions: {
    RunInSilo: {
      type: 'object',
      properties: { SiloBaseOsPath: { type: 'string' }, NotifySiloJobCreated: { type: 'boolean' } },
      additionalProperties: false,
    },
    LaunchOptions: {
      type: 'object',
      properties: { Type: { type: 'string', enum: ['Default', 'None', 'AppContainer'] } },
      additionalProperties: false,
    },
  },
};
