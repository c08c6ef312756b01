import type { TypeObject } from 'koffi';
import { koffi } from './koffi-module.js';

/**
 * The C types computecore.h uses, each declared with koffi the first time a
 * prototype or a callback names it (koffi's type registry is global, so once
 * per process). Why not all at once: under Wine each koffi declaration costs
 * 1-2 ms, and `hcs-sandbox ls` needs three of the nine (issue 16, cold start;
 * measured with node.exe 20 and koffi 3.3). Layouts are for 64-bit Windows,
 * transcribed from computecore.h; the prototypes are checked against the SDK
 * header in test/unit/native/prototypes.test.ts.
 */
export type ComputeCoreTypeName =
  | 'HRESULT'
  | 'HCS_SYSTEM'
  | 'HCS_PROCESS'
  | 'HCS_OPERATION'
  | 'HCS_PROCESS_INFORMATION'
  | 'HCS_EVENT'
  | 'HCS_CREATE_OPTIONS_1'
  | 'HCS_OPERATION_COMPLETION'
  | 'HCS_EVENT_CALLBACK';

const DECLARATIONS: Record<ComputeCoreTypeName, () => TypeObject> = {
  HRESULT: () => koffi().alias('HRESULT', 'int32'),
  HCS_SYSTEM: () => koffi().pointer('HCS_SYSTEM', koffi().opaque('HCS_SYSTEM_')),
  HCS_PROCESS: () => koffi().pointer('HCS_PROCESS', koffi().opaque('HCS_PROCESS_')),
  HCS_OPERATION: () => koffi().pointer('HCS_OPERATION', koffi().opaque('HCS_OPERATION_')),
  HCS_PROCESS_INFORMATION: () =>
    koffi().struct('HCS_PROCESS_INFORMATION', {
      ProcessId: 'uint32',
      Reserved: 'uint32',
      StdInput: 'void *',
      StdOutput: 'void *',
      StdError: 'void *',
    }),
  // EventData stays a raw pointer: it is only valid during the callback, and we
  // decode it there ourselves.
  HCS_EVENT: () =>
    koffi().struct('HCS_EVENT', {
      Type: 'uint32',
      EventData: 'void *',
      Operation: 'void *',
    }),
  HCS_CREATE_OPTIONS_1: () =>
    koffi().struct('HCS_CREATE_OPTIONS_1', {
      Version: 'uint32',
      UserToken: 'void *',
      SecurityDescriptor: 'void *',
      CallbackOptions: 'uint32',
      CallbackContext: 'void *',
      Callback: 'void *',
    }),
  HCS_OPERATION_COMPLETION: () => {
    computeCoreType('HCS_OPERATION');
    return koffi().proto('void __stdcall HCS_OPERATION_COMPLETION(HCS_OPERATION operation, void *context)');
  },
  HCS_EVENT_CALLBACK: () => koffi().proto('void __stdcall HCS_EVENT_CALLBACK(void *event, void *context)'),
};

const declared = new Map<ComputeCoreTypeName, TypeObject>();

/** The koffi type `name`, declared now if this is its first use. */
export function computeCoreType(name: ComputeCoreTypeName): TypeObject {
  let type = declared.get(name);
  if (type === undefined) {
    type = DECLARATIONS[name]();
    declared.set(name, type);
  }
  return type;
}

const TYPE_NAME = /\b(?:HRESULT|HCS_[A-Z0-9_]+)\b/g;

/** Declares every computecore type a koffi prototype names, before koffi parses it. */
export function declareTypesOf(signature: string): void {
  for (const [name] of signature.matchAll(TYPE_NAME)) {
    if (name in DECLARATIONS) computeCoreType(name as ComputeCoreTypeName);
  }
}
