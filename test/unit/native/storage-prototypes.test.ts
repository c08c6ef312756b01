import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPUTESTORAGE_PROTOTYPES, VIRTDISK_PROTOTYPES } from '../../../src/native/storage/prototypes.js';
import { parseWinapiHeader } from '../../support/c-header.js';

// MinGW-w64's copy of Microsoft's computestorage.h is the authority (installed
// by test-host/prepare.sh with gcc-mingw-w64).
const HEADER = '/usr/share/mingw-w64/include/computestorage.h';

const C_TO_KOFFI: Record<string, string> = {
  PCWSTR: 'const char16_t *',
  'PWSTR *': '_Out_ void **',
  HANDLE: 'void *',
  HRESULT: 'HRESULT',
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

describe.runIf(existsSync(HEADER))('computestorage prototypes against the SDK header', () => {
  const header = parseWinapiHeader(readFileSync(HEADER, 'utf8'));

  it('declares every function of computestorage.h, and nothing else', () => {
    expect(header).toHaveLength(12);
    expect(Object.keys(COMPUTESTORAGE_PROTOTYPES).sort()).toEqual(header.map((f) => f.name).sort());
  });

  it.each(header.map((f) => [f.name, f] as const))('%s has the header types and names', (name, fn) => {
    const ours = parseOurs(
      COMPUTESTORAGE_PROTOTYPES[name as keyof typeof COMPUTESTORAGE_PROTOTYPES].signature,
    );
    expect(ours.name).toBe(name);
    expect(C_TO_KOFFI[fn.returns]).toBe(ours.returns);
    expect(ours.params.map((p) => p.name)).toEqual(fn.params.map((p) => p.name));
    fn.params.forEach((p, i) => {
      expect(C_TO_KOFFI[p.type], `unmapped C type ${p.type}`).toBe(ours.params[i]!.type);
    });
  });
});

it('the computestorage header check ran (MinGW-w64 headers are installed by test-host/prepare.sh)', () => {
  expect(existsSync(HEADER)).toBe(true);
});

// virtdisk.h from MinGW has a wrong CREATE_VIRTUAL_DISK_PARAMETERS, but its
// function prototypes are right: compare names and parameter counts.
const VIRTDISK_HEADER = '/usr/share/mingw-w64/include/virtdisk.h';

describe.runIf(existsSync(VIRTDISK_HEADER))('virtdisk prototypes against the SDK header', () => {
  const text = readFileSync(VIRTDISK_HEADER, 'utf8');
  it.each(Object.entries(VIRTDISK_PROTOTYPES))('%s has the header parameter names', (name, proto) => {
    const m = new RegExp(`WINAPI\\s+${name}\\s*\\(([^)]*)\\)`).exec(text);
    expect(m, `${name} not in virtdisk.h`).not.toBeNull();
    const headerNames = m![1]!.split(',').map((p) => /(\w+)\s*$/.exec(p.trim())![1]);
    const ours = parseOurs(proto.signature);
    expect(ours.returns).toBe('uint32'); // DWORD: a Win32 error code
    expect(ours.params.map((p) => p.name)).toEqual(headerNames);
  });
});
