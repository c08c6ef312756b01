import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADVAPI32_PROTOTYPES } from '../../../src/native/security/prototypes.js';
import { parseWinapiHeader } from '../../support/c-header.js';

// MinGW-w64's copies of the SDK headers are the authority (installed by
// test-host/prepare.sh with gcc-mingw-w64). CheckTokenMembership is declared
// APIENTRY there, the same calling convention as WINAPI.
const INCLUDE = '/usr/share/mingw-w64/include';
const HEADERS = ['processthreadsapi.h', 'securitybaseapi.h', 'winbase.h'].map((h) => `${INCLUDE}/${h}`);

/** C type in the header -> the koffi type in our prototype. */
const C_TO_KOFFI: Record<string, string> = {
  WINBOOL: 'int',
  HANDLE: 'void *',
  DWORD: 'uint32',
  PHANDLE: '_Out_ void **',
  LPCWSTR: 'const char16_t *',
  PLUID: '_Out_ LUID *',
  PTOKEN_PRIVILEGES: ['TOKEN_PRIVILEGES_1 *', 'void *'].join('|'),
  PDWORD: 'void *|_Out_ uint32 *',
  TOKEN_INFORMATION_CLASS: 'int',
  LPVOID: '_Out_ uint8 *',
  PSID: 'uint8 *|void *|_Out_ uint8 *',
  PBOOL: '_Out_ int *',
  WELL_KNOWN_SID_TYPE: 'int',
  'DWORD *': '_Inout_ uint32 *',
};

function parseOurs(signature: string) {
  const m = /^(\S+)\s+(\w+)\(([^)]*)\)$/.exec(signature)!;
  const params = m[3]!.split(',').map((p) => {
    const pm = /^(.*?)\s*(\w+)$/.exec(p.trim())!;
    return { type: pm[1]!.trim(), name: pm[2]! };
  });
  return { returns: m[1]!, name: m[2]!, params };
}

describe.runIf(HEADERS.every((h) => existsSync(h)))('advapi32 prototypes against the SDK headers', () => {
  const declared = HEADERS.flatMap((h) =>
    parseWinapiHeader(readFileSync(h, 'utf8').replaceAll('APIENTRY', 'WINAPI')),
  );

  it.each(Object.entries(ADVAPI32_PROTOTYPES))('%s has the header parameter names and types', (name, p) => {
    const fn = declared.find((f) => f.name === name);
    expect(fn, `${name} is declared in the headers`).toBeDefined();
    const ours = parseOurs(p.signature);
    expect(ours.name).toBe(name);
    expect(fn!.returns).toMatch(/WINBOOL$/);
    expect(ours.returns).toBe('int');
    expect(ours.params.map((q) => q.name)).toEqual(fn!.params.map((q) => q.name));
    fn!.params.forEach((q, i) => {
      const allowed = C_TO_KOFFI[q.type]?.split('|') ?? [];
      expect(allowed, `${name}.${q.name}: ${q.type}`).toContain(ours.params[i]!.type);
    });
  });
});
