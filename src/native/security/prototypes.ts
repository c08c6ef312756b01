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

/**
 * The advapi32.dll functions that read and set a folder's security descriptor
 * (securitybaseapi.h, winbase.h, sddl.h; checked by
 * test/unit/native/security-prototypes.test.ts). Descriptors and SIDs cross
 * as SDDL strings (`O:BAD:P(A;OICI;FA;;;SY)...`), so no ACL walking happens
 * in native code. PSECURITY_DESCRIPTOR and PSID are `void *` or a byte buffer.
 */
export const FILE_SECURITY_PROTOTYPES = {
  GetFileSecurityW: {
    signature:
      'int GetFileSecurityW(const char16_t *lpFileName, uint32 RequestedInformation, _Out_ uint8 *pSecurityDescriptor, uint32 nLength, _Out_ uint32 *lpnLengthNeeded)',
  },
  SetFileSecurityW: {
    signature:
      'int SetFileSecurityW(const char16_t *lpFileName, uint32 SecurityInformation, void *pSecurityDescriptor)',
  },
  GetSecurityDescriptorOwner: {
    signature:
      'int GetSecurityDescriptorOwner(uint8 *pSecurityDescriptor, _Out_ void **pOwner, _Out_ int *lpbOwnerDefaulted)',
  },
  ConvertSidToStringSidW: {
    signature: 'int ConvertSidToStringSidW(void *Sid, _Out_ void **StringSid)',
  },
  ConvertStringSecurityDescriptorToSecurityDescriptorW: {
    signature:
      'int ConvertStringSecurityDescriptorToSecurityDescriptorW(const char16_t *StringSecurityDescriptor, uint32 StringSDRevision, _Out_ void **SecurityDescriptor, _Out_ uint32 *SecurityDescriptorSize)',
  },
  ConvertSecurityDescriptorToStringSecurityDescriptorW: {
    signature:
      'int ConvertSecurityDescriptorToStringSecurityDescriptorW(uint8 *SecurityDescriptor, uint32 RequestedStringSDRevision, uint32 SecurityInformation, _Out_ void **StringSecurityDescriptor, _Out_ uint32 *StringSecurityDescriptorLen)',
  },
} as const satisfies Record<string, Prototype>;

export type FileSecurityFunctionName = keyof typeof FILE_SECURITY_PROTOTYPES;
