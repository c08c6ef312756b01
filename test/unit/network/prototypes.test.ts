import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPUTENETWORK_PROTOTYPES } from '../../../src/native/network/prototypes.js';
import { parseWinapiHeader } from '../../support/c-header.js';

// MinGW-w64's copy of Microsoft's computenetwork.h is the authority.
const HEADER = '/usr/share/mingw-w64/include/computenetwork.h';

// How each C type of the header is spelled for koffi.
const C_TO_KOFFI: Record<string, string> = {
  HRESULT: 'HRESULT',
  VOID: 'void',
  PCWSTR: 'const char16_t *',
  'PWSTR *': '_Out_ void **',
  REFGUID: 'const HCN_GUID *',
  HCN_NETWORK: 'HCN_NETWORK',
  PHCN_NETWORK: '_Out_ HCN_NETWORK *',
  HCN_NAMESPACE: 'HCN_NAMESPACE',
  PHCN_NAMESPACE: '_Out_ HCN_NAMESPACE *',
  HCN_ENDPOINT: 'HCN_ENDPOINT',
  PHCN_ENDPOINT: '_Out_ HCN_ENDPOINT *',
  HCN_LOADBALANCER: 'HCN_LOADBALANCER',
  PHCN_LOADBALANCER: '_Out_ HCN_LOADBALANCER *',
  HCN_GUESTNETWORKSERVICE: 'HCN_GUESTNETWORKSERVICE',
  PHCN_GUESTNETWORKSERVICE: '_Out_ HCN_GUESTNETWORKSERVICE *',
  HCN_CALLBACK: 'HCN_CALLBACK',
  'HCN_CALLBACK *': '_Out_ HCN_CALLBACK *',
  HCN_NOTIFICATION_CALLBACK: 'HCN_NOTIFICATION_CALLBACK *',
  'void *': 'void *',
  HCN_PORT_PROTOCOL: 'int32',
  HCN_PORT_ACCESS: 'int32',
  USHORT: 'uint16',
  'HANDLE *': '_Out_ void **',
  HANDLE: 'void *',
  'HCN_PORT_RANGE_RESERVATION *': '_Out_ HCN_PORT_RANGE_RESERVATION *',
  'ULONG *': '_Out_ uint32 *',
  'HCN_PORT_RANGE_ENTRY **': '_Out_ void **',
  'HCN_PORT_RANGE_ENTRY *': 'void *',
};

function parseOurs(signature: string) {
  const m = /^(\S+)\s+(\w+)\(([^)]*)\)$/.exec(signature)!;
  const params = m[3]!
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const pm = /^(.*?)\s*(\w+)$/.exec(p)!;
      return { type: pm[1]!.trim(), name: pm[2]! };
    });
  return { returns: m[1]!, name: m[2]!, params };
}

describe.runIf(existsSync(HEADER))('computenetwork prototypes against the SDK header', () => {
  const header = parseWinapiHeader(readFileSync(HEADER, 'utf8'));

  it('declares every function of computenetwork.h, and nothing else', () => {
    expect(header.length).toBe(41);
    expect(Object.keys(COMPUTENETWORK_PROTOTYPES).sort()).toEqual(header.map((f) => f.name).sort());
  });

  it.each(header.map((f) => [f.name, f] as const))('%s has the header types and names', (name, fn) => {
    const ours = parseOurs(
      COMPUTENETWORK_PROTOTYPES[name as keyof typeof COMPUTENETWORK_PROTOTYPES].signature,
    );
    expect(ours.name).toBe(name);
    expect(C_TO_KOFFI[fn.returns]).toBe(ours.returns);
    expect(ours.params.map((p) => p.name)).toEqual(fn.params.map((p) => p.name));
    fn.params.forEach((p, i) => {
      expect(C_TO_KOFFI[p.type], `unmapped C type ${p.type}`).toBe(ours.params[i]!.type);
    });
  });
});

it('the computenetwork header check ran (MinGW-w64 headers are installed by test-host/prepare.sh)', () => {
  expect(existsSync(HEADER)).toBe(true);
});
