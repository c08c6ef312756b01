import type { Prototype } from '../shared/lazy-library.js';

/**
 * The advapi32.dll functions hcs-sandbox uses to read and adjust its own
 * process token, transcribed from the SDK headers (processthreadsapi.h,
 * securitybaseapi.h, winbase.h; checked by
 * test/unit/native/security-prototypes.test.ts against MinGW-w64's copies).
 * BOOL is `int`, HANDLE and PSID are `void *`, an out-parameter is `_Out_`.
 */
export const ADVAPI32_PROTOTYPES = {
  OpenProcessToken: {
    signature: 'int OpenProcessToken(void *ProcessHandle, uint32 DesiredAccess, _Out_ void **TokenHandle)',
  },
  LookupPrivilegeValueW: {
    signature:
      'int LookupPrivilegeValueW(const char16_t *lpSystemName, const char16_t *lpName, _Out_ LUID *lpLuid)',
  },
  AdjustTokenPrivileges: {
    signature:
      'int AdjustTokenPrivileges(void *TokenHandle, int DisableAllPrivileges, TOKEN_PRIVILEGES_1 *NewState, uint32 BufferLength, void *PreviousState, void *ReturnLength)',
  },
  GetTokenInformation: {
    signature:
      'int GetTokenInformation(void *TokenHandle, int TokenInformationClass, _Out_ uint8 *TokenInformation, uint32 TokenInformationLength, _Out_ uint32 *ReturnLength)',
  },
  CheckTokenMembership: {
    signature: 'int CheckTokenMembership(void *TokenHandle, uint8 *SidToCheck, _Out_ int *IsMember)',
  },
  CreateWellKnownSid: {
    signature:
      'int CreateWellKnownSid(int WellKnownSidType, void *DomainSid, _Out_ uint8 *pSid, _Inout_ uint32 *cbSid)',
  },
} as const satisfies Record<string, Prototype>;

export type Advapi32FunctionName = keyof typeof ADVAPI32_PROTOTYPES;
