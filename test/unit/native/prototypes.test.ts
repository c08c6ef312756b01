import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPUTECORE_PROTOTYPES } from '../../../src/native/core/prototypes.js';
import { parseWinapiHeader } from '../../support/c-header.js';

// The SDK header (MinGW-w64's copy of Microsoft's computecore.h) is the
// authority; test-host/prepare.sh installs it before the suite runs.
const HEADER = '/usr/share/mingw-w64/include/computecore.h';

/** How each C type of the header must be spelled in our koffi prototypes. */
const C_TO_KOFFI: Record<string, string[]> = {
  PCWSTR: ['const char16_t *'],
  'PWSTR *': ['_Out_ void **'],
  'PCWSTR *': ['_Out_ void **'],
  HCS_OPERATION: ['HCS_OPERATION'],
  HCS_SYSTEM: ['HCS_SYSTEM'],
  HCS_PROCESS: ['HCS_PROCESS'],
  'HCS_SYSTEM *': ['_Out_ HCS_SYSTEM *'],
  'HCS_PROCESS *': ['_Out_ HCS_PROCESS *'],
  DWORD: ['uint32'],
  HCS_EVENT_OPTIONS: ['uint32'],
  'const void *': ['void *'],
  'void *': ['void *'],
  HANDLE: ['void *'],
  'const SECURITY_DESCRIPTOR *': ['void *'],
  'const HCS_CREATE_OPTIONS *': ['HCS_CREATE_OPTIONS_1 *'],
  HCS_OPERATION_COMPLETION: ['HCS_OPERATION_COMPLETION *'],
  HCS_EVENT_CALLBACK: ['HCS_EVENT_CALLBACK *'],
  'HCS_PROCESS_INFORMATION *': ['_Out_ HCS_PROCESS_INFORMATION *'],
  HRESULT: ['HRESULT'],
  void: ['void'],
  'void*': ['void *'],
  HCS_OPERATION_TYPE: ['int32'],
  UINT64: ['uint64'],
};

function parseOurs(signature: string) {
  const m = /^(.*?)\s*\b(Hcs\w+)\(([^)]*)\)$/.exec(signature)!;
  const params = m[3]!
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => p.replace(/\s*\w+$/, '').trim());
  return { name: m[2]!, returns: m[1]!.trim(), params };
}

describe.runIf(existsSync(HEADER))('computecore prototypes against the SDK header', () => {
  const header = parseWinapiHeader(readFileSync(HEADER, 'utf8'));

  it('declares every function of computecore.h, and nothing else', () => {
    expect(header.length).toBeGreaterThanOrEqual(50);
    expect(Object.keys(COMPUTECORE_PROTOTYPES).sort()).toEqual(header.map((f) => f.name).sort());
  });

  it.each(header.map((f) => [f.name, f] as const))('%s has the header types', (name, fn) => {
    const ours = parseOurs(COMPUTECORE_PROTOTYPES[name as keyof typeof COMPUTECORE_PROTOTYPES].signature);
    expect(ours.name).toBe(name);
    const returns = fn.returns.replace(/\s+/g, ' ');
    expect(C_TO_KOFFI[returns], `unmapped return type ${returns}`).toContain(
      ours.returns.replace(/\s*\*$/, ' *').replace('void * ', 'void *'),
    );
    expect(ours.params.length).toBe(fn.params.length);
    fn.params.forEach((p, i) => {
      const cType = p.type.replace(/\s+/g, ' ').replace(/ \*/g, ' *');
      expect(C_TO_KOFFI[cType], `unmapped C type ${cType} (${name} param ${i})`).toContain(ours.params[i]);
    });
  });
});

it('the header check ran (MinGW-w64 headers are installed by test-host/prepare.sh)', () => {
  expect(existsSync(HEADER)).toBe(true);
});
