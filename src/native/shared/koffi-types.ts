import type { TypeObject } from 'koffi';
import { koffi } from './koffi-module.js';

/**
 * The C types computecore.h uses, declared once per process (koffi's type
 * registry is global). Layouts are for 64-bit Windows; the struct sizes are
 * asserted in the Wine tier against the SDK headers.
 */
export interface ComputeCoreTypes {
  HCS_PROCESS_INFORMATION: TypeObject;
  HCS_EVENT: TypeObject;
  HCS_CREATE_OPTIONS_1: TypeObject;
  HCS_OPERATION_COMPLETION: TypeObject;
  HCS_EVENT_CALLBACK: TypeObject;
}

let declared: ComputeCoreTypes | undefined;

export function computeCoreTypes(): ComputeCoreTypes {
  if (declared) return declared;
  koffi().alias('HRESULT', 'int32');
  koffi().pointer('HCS_SYSTEM', koffi().opaque('HCS_SYSTEM_'));
  koffi().pointer('HCS_PROCESS', koffi().opaque('HCS_PROCESS_'));
  koffi().pointer('HCS_OPERATION', koffi().opaque('HCS_OPERATION_'));
  const HCS_PROCESS_INFORMATION = koffi().struct('HCS_PROCESS_INFORMATION', {
    ProcessId: 'uint32',
    Reserved: 'uint32',
    StdInput: 'void *',
    StdOutput: 'void *',
    StdError: 'void *',
  });
  // EventData stays a raw pointer: it is only valid during the callback, and we
  // decode it there ourselves.
  const HCS_EVENT = koffi().struct('HCS_EVENT', {
    Type: 'uint32',
    EventData: 'void *',
    Operation: 'void *',
  });
  const HCS_OPERATION_COMPLETION = koffi().proto(
    'void __stdcall HCS_OPERATION_COMPLETION(HCS_OPERATION operation, void *context)',
  );
  const HCS_EVENT_CALLBACK = koffi().proto('void __stdcall HCS_EVENT_CALLBACK(void *event, void *context)');
  const HCS_CREATE_OPTIONS_1 = koffi().struct('HCS_CREATE_OPTIONS_1', {
    Version: 'uint32',
    UserToken: 'void *',
    SecurityDescriptor: 'void *',
    CallbackOptions: 'uint32',
    CallbackContext: 'void *',
    Callback: 'void *',
  });
  declared = {
    HCS_PROCESS_INFORMATION,
    HCS_EVENT,
    HCS_CREATE_OPTIONS_1,
    HCS_OPERATION_COMPLETION,
    HCS_EVENT_CALLBACK,
  };
  return declared;
}
