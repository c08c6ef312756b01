import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PeFormatError, parsePeVersion, readPeVersion } from '../../../../src/storage/images/pe-version.js';
import { tempRoot } from './fixtures.js';
import { buildPe } from './pe-builder.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ root, cleanup } = await tempRoot('pe'));
});
afterEach(() => cleanup());

describe('parsePeVersion', () => {
  it('reads the fixed file and product versions of a PE32+ file', () => {
    const v = parsePeVersion(
      buildPe({ fileVersion: [10, 0, 22621, 2506], productVersion: [10, 0, 22621, 1] }),
    );
    expect(v).toEqual({
      fileVersion: '10.0.22621.2506',
      productVersion: '10.0.22621.1',
      major: 10,
      minor: 0,
      build: 22621,
      revision: 2506,
      machine: 0x8664,
    });
  });

  it('reads a PE32 file and walks past other resource types', () => {
    const v = parsePeVersion(buildPe({ pe32plus: false, decoys: true, fileVersion: [6, 3, 9600, 65535] }));
    expect(v.fileVersion).toBe('6.3.9600.65535');
    expect(v.machine).toBe(0x14c);
  });

  it.each([
    ['not a PE file', new TextEncoder().encode('hello'.repeat(20)), /no MZ header/],
    ['empty', new Uint8Array(0), /no MZ header/],
    ['no version resource', buildPe({ noVersion: true, decoys: true }), /no version resource/],
    ['bad fixed-info signature', buildPe({ badSignature: true }), /VS_FIXEDFILEINFO/],
    ['truncated', buildPe().subarray(0, 0x210), /truncated|outside|past the end/],
  ])('%s → PeFormatError', (_label, bytes, message) => {
    expect(() => parsePeVersion(bytes)).toThrow(PeFormatError);
    expect(() => parsePeVersion(bytes)).toThrow(message);
  });

  it('a bad PE signature', () => {
    const bytes = buildPe();
    bytes[0x40] = 0;
    expect(() => parsePeVersion(bytes)).toThrow(/no PE signature/);
  });
});

describe('readPeVersion', () => {
  it('reads a file and names it in errors', async () => {
    const good = join(root, 'ntoskrnl.exe');
    await writeFile(good, buildPe({ fileVersion: [10, 0, 26100, 4061] }));
    expect((await readPeVersion(good)).build).toBe(26100);
    const bad = join(root, 'bad.dll');
    await writeFile(bad, 'MZ');
    const err = await readPeVersion(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeFormatError);
    expect((err as PeFormatError).code).toBe('PE_FORMAT');
    expect((err as Error).message).toContain('bad.dll');
  });

  // A real PE file built by another toolchain, where Wine is installed (the Wine test tier's machines).
  const wineKernel32 = '/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/kernel32.dll';
  it.skipIf(!existsSync(wineKernel32))("reads Wine's kernel32.dll", async () => {
    const v = await readPeVersion(wineKernel32);
    expect(v.machine).toBe(0x8664);
    expect(v.major).toBeGreaterThanOrEqual(5);
    expect(v.fileVersion).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});
