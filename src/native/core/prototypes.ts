import type { Prototype } from '../shared/lazy-library.js';

/**
 * Every function of computecore.dll, as koffi prototypes, transcribed from the
 * SDK's computecore.h (checked by test/unit/native/prototypes.test.ts against the
 * header itself). Types: `const char16_t *` for PCWSTR (wchar_t is 4 bytes on
 * Linux, so never `wchar_t`), `_Out_ void **` for returned strings so we keep the
 * pointer and can LocalFree it, int32 HRESULT.
 */

const SYSTEM_OP = (name: string): Prototype => ({
  signature: `HRESULT ${name}(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *options)`,
});
const PROCESS_OP = (name: string, last = 'options'): Prototype => ({
  signature: `HRESULT ${name}(HCS_PROCESS process, HCS_OPERATION operation, const char16_t *${last})`,
});

export const COMPUTECORE_PROTOTYPES = {
  HcsEnumerateComputeSystems: {
    signature: 'HRESULT HcsEnumerateComputeSystems(const char16_t *query, HCS_OPERATION operation)',
  },
  HcsEnumerateComputeSystemsInNamespace: {
    signature:
      'HRESULT HcsEnumerateComputeSystemsInNamespace(const char16_t *idNamespace, const char16_t *query, HCS_OPERATION operation)',
    minimumBuild: 'Windows Server 2022 (20348)',
  },
  HcsCreateOperation: {
    signature: 'HCS_OPERATION HcsCreateOperation(void *context, HCS_OPERATION_COMPLETION *callback)',
  },
  HcsCloseOperation: { signature: 'void HcsCloseOperation(HCS_OPERATION operation)' },
  HcsGetOperationContext: { signature: 'void *HcsGetOperationContext(HCS_OPERATION operation)' },
  HcsSetOperationContext: {
    signature: 'HRESULT HcsSetOperationContext(HCS_OPERATION operation, void *context)',
  },
  HcsGetComputeSystemFromOperation: {
    signature: 'HCS_SYSTEM HcsGetComputeSystemFromOperation(HCS_OPERATION operation)',
  },
  HcsGetProcessFromOperation: {
    signature: 'HCS_PROCESS HcsGetProcessFromOperation(HCS_OPERATION operation)',
  },
  HcsGetOperationType: { signature: 'int32 HcsGetOperationType(HCS_OPERATION operation)' },
  HcsGetOperationId: { signature: 'uint64 HcsGetOperationId(HCS_OPERATION operation)' },
  HcsGetOperationResult: {
    signature: 'HRESULT HcsGetOperationResult(HCS_OPERATION operation, _Out_ void **resultDocument)',
  },
  HcsGetOperationResultAndProcessInfo: {
    signature:
      'HRESULT HcsGetOperationResultAndProcessInfo(HCS_OPERATION operation, _Out_ HCS_PROCESS_INFORMATION *processInformation, _Out_ void **resultDocument)',
  },
  HcsGetProcessorCompatibilityFromSavedState: {
    signature:
      'HRESULT HcsGetProcessorCompatibilityFromSavedState(const char16_t *RuntimeFileName, _Out_ void **ProcessorFeaturesString)',
    minimumBuild: 'Windows Server 2022 (20348)',
  },
  HcsWaitForOperationResult: {
    signature:
      'HRESULT HcsWaitForOperationResult(HCS_OPERATION operation, uint32 timeoutMs, _Out_ void **resultDocument)',
  },
  HcsWaitForOperationResultAndProcessInfo: {
    signature:
      'HRESULT HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION operation, uint32 timeoutMs, _Out_ HCS_PROCESS_INFORMATION *processInformation, _Out_ void **resultDocument)',
  },
  HcsSetOperationCallback: {
    signature:
      'HRESULT HcsSetOperationCallback(HCS_OPERATION operation, void *context, HCS_OPERATION_COMPLETION *callback)',
  },
  HcsCancelOperation: { signature: 'HRESULT HcsCancelOperation(HCS_OPERATION operation)' },
  HcsCreateComputeSystem: {
    signature:
      'HRESULT HcsCreateComputeSystem(const char16_t *id, const char16_t *configuration, HCS_OPERATION operation, void *securityDescriptor, _Out_ HCS_SYSTEM *computeSystem)',
  },
  HcsCreateComputeSystemInNamespace: {
    signature:
      'HRESULT HcsCreateComputeSystemInNamespace(const char16_t *idNamespace, const char16_t *id, const char16_t *configuration, HCS_OPERATION operation, HCS_CREATE_OPTIONS_1 *options, _Out_ HCS_SYSTEM *computeSystem)',
    minimumBuild: 'Windows Server 2022 (20348)',
  },
  HcsOpenComputeSystem: {
    signature:
      'HRESULT HcsOpenComputeSystem(const char16_t *id, uint32 requestedAccess, _Out_ HCS_SYSTEM *computeSystem)',
  },
  HcsOpenComputeSystemInNamespace: {
    signature:
      'HRESULT HcsOpenComputeSystemInNamespace(const char16_t *idNamespace, const char16_t *id, uint32 requestedAccess, _Out_ HCS_SYSTEM *computeSystem)',
    minimumBuild: 'Windows Server 2022 (20348)',
  },
  HcsCloseComputeSystem: { signature: 'void HcsCloseComputeSystem(HCS_SYSTEM computeSystem)' },
  HcsStartComputeSystem: SYSTEM_OP('HcsStartComputeSystem'),
  HcsShutDownComputeSystem: SYSTEM_OP('HcsShutDownComputeSystem'),
  HcsTerminateComputeSystem: SYSTEM_OP('HcsTerminateComputeSystem'),
  HcsCrashComputeSystem: { ...SYSTEM_OP('HcsCrashComputeSystem'), minimumBuild: 'Windows 10 2004 (19041)' },
  HcsPauseComputeSystem: SYSTEM_OP('HcsPauseComputeSystem'),
  HcsResumeComputeSystem: SYSTEM_OP('HcsResumeComputeSystem'),
  HcsSaveComputeSystem: SYSTEM_OP('HcsSaveComputeSystem'),
  HcsGetComputeSystemProperties: {
    signature:
      'HRESULT HcsGetComputeSystemProperties(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *propertyQuery)',
  },
  HcsModifyComputeSystem: {
    signature:
      'HRESULT HcsModifyComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *configuration, void *identity)',
  },
  HcsWaitForComputeSystemExit: {
    signature:
      'HRESULT HcsWaitForComputeSystemExit(HCS_SYSTEM computeSystem, uint32 timeoutMs, _Out_ void **result)',
    minimumBuild: 'Windows Server 2022 (20348)',
  },
  HcsSetComputeSystemCallback: {
    signature:
      'HRESULT HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem, uint32 callbackOptions, void *context, HCS_EVENT_CALLBACK *callback)',
  },
  HcsCreateProcess: {
    signature:
      'HRESULT HcsCreateProcess(HCS_SYSTEM computeSystem, const char16_t *processParameters, HCS_OPERATION operation, void *securityDescriptor, _Out_ HCS_PROCESS *process)',
  },
  HcsOpenProcess: {
    signature:
      'HRESULT HcsOpenProcess(HCS_SYSTEM computeSystem, uint32 processId, uint32 requestedAccess, _Out_ HCS_PROCESS *process)',
  },
  HcsCloseProcess: { signature: 'void HcsCloseProcess(HCS_PROCESS process)' },
  HcsTerminateProcess: PROCESS_OP('HcsTerminateProcess'),
  HcsSignalProcess: PROCESS_OP('HcsSignalProcess'),
  HcsGetProcessInfo: {
    signature: 'HRESULT HcsGetProcessInfo(HCS_PROCESS process, HCS_OPERATION operation)',
  },
  HcsGetProcessProperties: PROCESS_OP('HcsGetProcessProperties', 'propertyQuery'),
  HcsModifyProcess: PROCESS_OP('HcsModifyProcess', 'settings'),
  HcsSetProcessCallback: {
    signature:
      'HRESULT HcsSetProcessCallback(HCS_PROCESS process, uint32 callbackOptions, void *context, HCS_EVENT_CALLBACK *callback)',
  },
  HcsWaitForProcessExit: {
    signature:
      'HRESULT HcsWaitForProcessExit(HCS_PROCESS computeSystem, uint32 timeoutMs, _Out_ void **result)',
    minimumBuild: 'Windows Server 2022 (20348)',
  },
  HcsGetServiceProperties: {
    signature: 'HRESULT HcsGetServiceProperties(const char16_t *propertyQuery, _Out_ void **result)',
  },
  HcsModifyServiceSettings: {
    signature: 'HRESULT HcsModifyServiceSettings(const char16_t *settings, _Out_ void **result)',
  },
  HcsSubmitWerReport: { signature: 'HRESULT HcsSubmitWerReport(const char16_t *settings)' },
  HcsCreateEmptyGuestStateFile: {
    signature: 'HRESULT HcsCreateEmptyGuestStateFile(const char16_t *guestStateFilePath)',
  },
  HcsCreateEmptyRuntimeStateFile: {
    signature: 'HRESULT HcsCreateEmptyRuntimeStateFile(const char16_t *runtimeStateFilePath)',
  },
  HcsGrantVmAccess: { signature: 'HRESULT HcsGrantVmAccess(const char16_t *vmId, const char16_t *filePath)' },
  HcsRevokeVmAccess: {
    signature: 'HRESULT HcsRevokeVmAccess(const char16_t *vmId, const char16_t *filePath)',
  },
  HcsGrantVmGroupAccess: {
    signature: 'HRESULT HcsGrantVmGroupAccess(const char16_t *filePath)',
    minimumBuild: 'Windows 10 2004 (19041)',
  },
  HcsRevokeVmGroupAccess: {
    signature: 'HRESULT HcsRevokeVmGroupAccess(const char16_t *filePath)',
    minimumBuild: 'Windows 10 2004 (19041)',
  },
} as const satisfies Record<string, Prototype>;

export type ComputeCoreFunctionName = keyof typeof COMPUTECORE_PROTOTYPES;
