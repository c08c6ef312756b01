import type { TypeObject } from 'koffi';
import { koffi } from '../shared/koffi-module.js';

/**
 * The kernel32 structs the jobs layer passes, declared once per process (koffi's
 * type registry is global) and only on first use. Layouts are for 64-bit
 * Windows; the Wine tier compares every size and offset with a C program built
 * against the SDK headers (test-host/layout).
 */
export interface JobStructs {
  JOBOBJECT_BASIC_LIMIT_INFORMATION: TypeObject;
  IO_COUNTERS: TypeObject;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION: TypeObject;
  JOBOBJECT_BASIC_ACCOUNTING_INFORMATION: TypeObject;
  JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION: TypeObject;
  JOBOBJECT_CPU_RATE_CONTROL_INFORMATION: TypeObject;
  JOBOBJECT_BASIC_PROCESS_ID_LIST: TypeObject;
  JOBOBJECT_IO_RATE_CONTROL_INFORMATION: TypeObject;
  STARTUPINFOW: TypeObject;
  PROCESS_INFORMATION: TypeObject;
  SECURITY_ATTRIBUTES: TypeObject;
}

let declared: JobStructs | undefined;

export function jobStructs(): JobStructs {
  if (declared) return declared;
  const k = koffi();
  // LARGE_INTEGER is a union around a LONGLONG: same size and alignment as int64.
  const JOBOBJECT_BASIC_LIMIT_INFORMATION = k.struct('JOBOBJECT_BASIC_LIMIT_INFORMATION', {
    PerProcessUserTimeLimit: 'int64',
    PerJobUserTimeLimit: 'int64',
    LimitFlags: 'uint32',
    MinimumWorkingSetSize: 'size_t',
    MaximumWorkingSetSize: 'size_t',
    ActiveProcessLimit: 'uint32',
    Affinity: 'uintptr_t',
    PriorityClass: 'uint32',
    SchedulingClass: 'uint32',
  });
  const IO_COUNTERS = k.struct('IO_COUNTERS', {
    ReadOperationCount: 'uint64',
    WriteOperationCount: 'uint64',
    OtherOperationCount: 'uint64',
    ReadTransferCount: 'uint64',
    WriteTransferCount: 'uint64',
    OtherTransferCount: 'uint64',
  });
  const JOBOBJECT_EXTENDED_LIMIT_INFORMATION = k.struct('JOBOBJECT_EXTENDED_LIMIT_INFORMATION', {
    BasicLimitInformation: JOBOBJECT_BASIC_LIMIT_INFORMATION,
    IoInfo: IO_COUNTERS,
    ProcessMemoryLimit: 'size_t',
    JobMemoryLimit: 'size_t',
    PeakProcessMemoryUsed: 'size_t',
    PeakJobMemoryUsed: 'size_t',
  });
  const JOBOBJECT_BASIC_ACCOUNTING_INFORMATION = k.struct('JOBOBJECT_BASIC_ACCOUNTING_INFORMATION', {
    TotalUserTime: 'int64',
    TotalKernelTime: 'int64',
    ThisPeriodTotalUserTime: 'int64',
    ThisPeriodTotalKernelTime: 'int64',
    TotalPageFaultCount: 'uint32',
    TotalProcesses: 'uint32',
    ActiveProcesses: 'uint32',
    TotalTerminatedProcesses: 'uint32',
  });
  const JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION = k.struct(
    'JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION',
    { BasicInfo: JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, IoInfo: IO_COUNTERS },
  );
  // The C union is anonymous; koffi needs a member name (`u`).
  const JOBOBJECT_CPU_RATE_CONTROL_INFORMATION = k.struct('JOBOBJECT_CPU_RATE_CONTROL_INFORMATION', {
    ControlFlags: 'uint32',
    u: k.union('JOBOBJECT_CPU_RATE_CONTROL_UNION', {
      CpuRate: 'uint32',
      Weight: 'uint32',
      MinMax: k.struct('JOBOBJECT_CPU_RATE_MIN_MAX', { MinRate: 'uint16', MaxRate: 'uint16' }),
    }),
  });
  // Variable length: ProcessIdList has NumberOfProcessIdsInList entries; we
  // declare one (as the header does) and decode the rest from the buffer.
  const JOBOBJECT_BASIC_PROCESS_ID_LIST = k.struct('JOBOBJECT_BASIC_PROCESS_ID_LIST', {
    NumberOfAssignedProcesses: 'uint32',
    NumberOfProcessIdsInList: 'uint32',
    ProcessIdList: k.array('uintptr_t', 1),
  });
  const JOBOBJECT_IO_RATE_CONTROL_INFORMATION = k.struct('JOBOBJECT_IO_RATE_CONTROL_INFORMATION', {
    MaxIops: 'int64',
    MaxBandwidth: 'int64',
    ReservationIops: 'int64',
    VolumeName: 'const char16_t *',
    BaseIoSize: 'uint32',
    ControlFlags: 'uint32',
  });
  const STARTUPINFOW = k.struct('STARTUPINFOW', {
    cb: 'uint32',
    lpReserved: 'void *',
    lpDesktop: 'void *',
    lpTitle: 'void *',
    dwX: 'uint32',
    dwY: 'uint32',
    dwXSize: 'uint32',
    dwYSize: 'uint32',
    dwXCountChars: 'uint32',
    dwYCountChars: 'uint32',
    dwFillAttribute: 'uint32',
    dwFlags: 'uint32',
    wShowWindow: 'uint16',
    cbReserved2: 'uint16',
    lpReserved2: 'void *',
    hStdInput: 'void *',
    hStdOutput: 'void *',
    hStdError: 'void *',
  });
  const PROCESS_INFORMATION = k.struct('PROCESS_INFORMATION', {
    hProcess: 'void *',
    hThread: 'void *',
    dwProcessId: 'uint32',
    dwThreadId: 'uint32',
  });
  const SECURITY_ATTRIBUTES = k.struct('SECURITY_ATTRIBUTES', {
    nLength: 'uint32',
    lpSecurityDescriptor: 'void *',
    bInheritHandle: 'int32',
  });
  declared = {
    JOBOBJECT_BASIC_LIMIT_INFORMATION,
    IO_COUNTERS,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION,
    JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION,
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION,
    JOBOBJECT_BASIC_PROCESS_ID_LIST,
    JOBOBJECT_IO_RATE_CONTROL_INFORMATION,
    STARTUPINFOW,
    PROCESS_INFORMATION,
    SECURITY_ATTRIBUTES,
  };
  return declared;
}

/** `sizeof`, `alignof` and `offsetof` of one struct, as C would print them. */
export interface StructLayout {
  size: number;
  align: number;
  fields: Record<string, number>;
}

/** Members of the anonymous CPU-rate union, named as C names them (koffi calls the union `u`). */
const FLATTENED: Record<string, Record<string, string[]>> = {
  JOBOBJECT_CPU_RATE_CONTROL_INFORMATION: { u: ['CpuRate', 'Weight', 'MinMax.MinRate', 'MinMax.MaxRate'] },
};

/**
 * The layout koffi uses for every struct above (`koffi.sizeof`, `alignof`,
 * `offsetof`), members named as in the SDK headers, for the layout check.
 */
export function jobStructLayouts(): Record<string, StructLayout> {
  const k = koffi();
  const result: Record<string, StructLayout> = {};
  for (const [name, type] of Object.entries(jobStructs())) {
    const fields: Record<string, number> = {};
    for (const [member, info] of Object.entries(type.members ?? {})) {
      const base = k.offsetof(type, member);
      const flat = FLATTENED[name]?.[member];
      if (!flat) {
        fields[member] = base;
        continue;
      }
      for (const path of flat) {
        let offset = base;
        let current: TypeObject | undefined = (info as { type: TypeObject }).type;
        let last = path;
        for (const part of path.split('.')) {
          const inner: { type: TypeObject; offset: number } | undefined = current?.members?.[part];
          offset += inner?.offset ?? Number.NaN;
          current = inner?.type;
          last = part;
        }
        fields[last] = offset;
      }
    }
    result[name] = { size: k.sizeof(type), align: k.alignof(type), fields };
  }
  return result;
}
