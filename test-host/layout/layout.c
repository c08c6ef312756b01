/*
 * Prints, as JSON, sizeof / _Alignof / offsetof of every struct hcs-sandbox's
 * jobs layer declares to koffi (src/native/jobs/structs.ts), as the SDK headers
 * (MinGW-w64's <windows.h>) lay them out for x64. The Wine tier runs it and
 * compares with koffi's own sizeof/offsetof inside node.exe.
 *
 * MinGW-w64's winnt.h lacks two things the SDK has; they are declared here from
 * the SDK's definitions and listed under "_local" so the comparison says they
 * are not header-checked:
 *   - JOBOBJECT_IO_RATE_CONTROL_INFORMATION (jobapi2.h),
 *   - the { WORD MinRate; WORD MaxRate; } member of the CPU-rate union.
 */
#include <windows.h>
#include <stddef.h>
#include <stdio.h>

typedef struct LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION {
  LONG64 MaxIops;
  LONG64 MaxBandwidth;
  LONG64 ReservationIops;
  PCWSTR VolumeName;
  ULONG BaseIoSize;
  ULONG ControlFlags;
} LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION;

typedef struct LOCAL_JOBOBJECT_CPU_RATE_CONTROL_INFORMATION {
  DWORD ControlFlags;
  union {
    DWORD CpuRate;
    DWORD Weight;
    struct {
      WORD MinRate;
      WORD MaxRate;
    };
  };
} LOCAL_JOBOBJECT_CPU_RATE_CONTROL_INFORMATION;

static int first_struct = 1;
static int first_field;

static void begin(const char *name, size_t size, size_t align) {
  printf("%s\n  \"%s\": {\"size\": %u, \"align\": %u, \"fields\": {", first_struct ? "" : ",", name,
         (unsigned)size, (unsigned)align);
  first_struct = 0;
  first_field = 1;
}
static void field(const char *name, size_t offset) {
  printf("%s\"%s\": %u", first_field ? "" : ", ", name, (unsigned)offset);
  first_field = 0;
}
static void end(void) { printf("}}"); }

#define BEGIN(T) begin(#T, sizeof(T), _Alignof(T))
#define F(T, m) field(#m, offsetof(T, m))

int main(void) {
  printf("{");
  BEGIN(JOBOBJECT_BASIC_LIMIT_INFORMATION);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, PerProcessUserTimeLimit);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, PerJobUserTimeLimit);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, LimitFlags);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, MinimumWorkingSetSize);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, MaximumWorkingSetSize);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, ActiveProcessLimit);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, Affinity);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, PriorityClass);
  F(JOBOBJECT_BASIC_LIMIT_INFORMATION, SchedulingClass);
  end();

  BEGIN(IO_COUNTERS);
  F(IO_COUNTERS, ReadOperationCount);
  F(IO_COUNTERS, WriteOperationCount);
  F(IO_COUNTERS, OtherOperationCount);
  F(IO_COUNTERS, ReadTransferCount);
  F(IO_COUNTERS, WriteTransferCount);
  F(IO_COUNTERS, OtherTransferCount);
  end();

  BEGIN(JOBOBJECT_EXTENDED_LIMIT_INFORMATION);
  F(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, BasicLimitInformation);
  F(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, IoInfo);
  F(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, ProcessMemoryLimit);
  F(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobMemoryLimit);
  F(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, PeakProcessMemoryUsed);
  F(JOBOBJECT_EXTENDED_LIMIT_INFORMATION, PeakJobMemoryUsed);
  end();

  BEGIN(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, TotalUserTime);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, TotalKernelTime);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, ThisPeriodTotalUserTime);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, ThisPeriodTotalKernelTime);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, TotalPageFaultCount);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, TotalProcesses);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, ActiveProcesses);
  F(JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, TotalTerminatedProcesses);
  end();

  BEGIN(JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION);
  F(JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION, BasicInfo);
  F(JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION, IoInfo);
  end();

  BEGIN(JOBOBJECT_CPU_RATE_CONTROL_INFORMATION);
  F(JOBOBJECT_CPU_RATE_CONTROL_INFORMATION, ControlFlags);
  F(JOBOBJECT_CPU_RATE_CONTROL_INFORMATION, CpuRate);
  F(JOBOBJECT_CPU_RATE_CONTROL_INFORMATION, Weight);
  F(LOCAL_JOBOBJECT_CPU_RATE_CONTROL_INFORMATION, MinRate);
  F(LOCAL_JOBOBJECT_CPU_RATE_CONTROL_INFORMATION, MaxRate);
  end();

  BEGIN(JOBOBJECT_BASIC_PROCESS_ID_LIST);
  F(JOBOBJECT_BASIC_PROCESS_ID_LIST, NumberOfAssignedProcesses);
  F(JOBOBJECT_BASIC_PROCESS_ID_LIST, NumberOfProcessIdsInList);
  F(JOBOBJECT_BASIC_PROCESS_ID_LIST, ProcessIdList);
  end();

  begin("JOBOBJECT_IO_RATE_CONTROL_INFORMATION", sizeof(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION),
        _Alignof(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION));
  F(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION, MaxIops);
  F(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION, MaxBandwidth);
  F(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION, ReservationIops);
  F(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION, VolumeName);
  F(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION, BaseIoSize);
  F(LOCAL_JOBOBJECT_IO_RATE_CONTROL_INFORMATION, ControlFlags);
  end();

  BEGIN(STARTUPINFOW);
  F(STARTUPINFOW, cb);
  F(STARTUPINFOW, lpReserved);
  F(STARTUPINFOW, lpDesktop);
  F(STARTUPINFOW, lpTitle);
  F(STARTUPINFOW, dwX);
  F(STARTUPINFOW, dwY);
  F(STARTUPINFOW, dwXSize);
  F(STARTUPINFOW, dwYSize);
  F(STARTUPINFOW, dwXCountChars);
  F(STARTUPINFOW, dwYCountChars);
  F(STARTUPINFOW, dwFillAttribute);
  F(STARTUPINFOW, dwFlags);
  F(STARTUPINFOW, wShowWindow);
  F(STARTUPINFOW, cbReserved2);
  F(STARTUPINFOW, lpReserved2);
  F(STARTUPINFOW, hStdInput);
  F(STARTUPINFOW, hStdOutput);
  F(STARTUPINFOW, hStdError);
  end();

  BEGIN(PROCESS_INFORMATION);
  F(PROCESS_INFORMATION, hProcess);
  F(PROCESS_INFORMATION, hThread);
  F(PROCESS_INFORMATION, dwProcessId);
  F(PROCESS_INFORMATION, dwThreadId);
  end();

  BEGIN(SECURITY_ATTRIBUTES);
  F(SECURITY_ATTRIBUTES, nLength);
  F(SECURITY_ATTRIBUTES, lpSecurityDescriptor);
  F(SECURITY_ATTRIBUTES, bInheritHandle);
  end();

  printf(",\n  \"_local\": [\"JOBOBJECT_IO_RATE_CONTROL_INFORMATION\", "
         "\"JOBOBJECT_CPU_RATE_CONTROL_INFORMATION.MinRate\", "
         "\"JOBOBJECT_CPU_RATE_CONTROL_INFORMATION.MaxRate\"]\n}\n");
  /* The local union copy must agree with the header's where both exist. */
  return sizeof(LOCAL_JOBOBJECT_CPU_RATE_CONTROL_INFORMATION) == sizeof(JOBOBJECT_CPU_RATE_CONTROL_INFORMATION) ? 0 : 1;
}
