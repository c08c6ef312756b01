import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreRootNotSecureError } from '../../../src/storage/errors.js';
import { allowedTrustees, untrustedTrustees } from '../../../src/storage/sddl.js';
import { STORE_ROOT_SDDL, secureStoreRoot } from '../../../src/storage/store-root-security.js';
import { FAKE_USER_SID, FakeFileSecurity } from '../../support/fake-file-security.js';

let work: string;
let warnings: string[];

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'hcs-store-root-'));
  warnings = [];
  vi.spyOn(process, 'emitWarning').mockImplementation((w) => {
    warnings.push(String(w));
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(work, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('secureStoreRoot on POSIX', () => {
  it('creates a missing root with mode 0700, parents included', async () => {
    const root = join(work, 'a', 'b', 'root');
    expect(await secureStoreRoot(root, { platform: 'linux' })).toEqual({
      root,
      created: true,
      tightened: false,
    });
    expect(await mode(root)).toBe(0o700);
  });

  it('accepts a root of its own with mode 0700 as it is', async () => {
    const root = join(work, 'root');
    await mkdir(root, { mode: 0o700 });
    expect(await secureStoreRoot(root, { platform: 'linux' })).toEqual({
      root,
      created: false,
      tightened: false,
    });
    expect(warnings).toEqual([]);
  });

  it('tightens a root others can read (older versions made it 0755) and says so', async () => {
    const root = join(work, 'root');
    await mkdir(root);
    await chmod(root, 0o755);
    expect(await secureStoreRoot(root, { platform: 'linux' })).toMatchObject({ tightened: true });
    expect(await mode(root)).toBe(0o700);
    expect(warnings).toEqual([expect.stringContaining(`tightened the permissions of ${root}`)]);
  });

  it.each([0o775, 0o757, 0o1777])('refuses a root its group or others can write (mode %o)', async (bits) => {
    const root = join(work, 'root');
    await mkdir(root);
    await chmod(root, bits);
    const error = await secureStoreRoot(root, { platform: 'linux' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreRootNotSecureError);
    expect(error).toMatchObject({ code: 'STORE_ROOT_NOT_SECURE', kind: 'invalid-state', root });
    expect((error as Error).message).toMatch(/can write it .*HCS_SANDBOX_HOME/s);
    expect(await mode(root)).toBe(bits & 0o777); // left as it was
  });

  it.runIf(process.getuid?.() === 0)('refuses a root another user owns', async () => {
    const root = join(work, 'root');
    await mkdir(root, { mode: 0o700 });
    await chown(root, 4321, 4321);
    await expect(secureStoreRoot(root, { platform: 'linux' })).rejects.toMatchObject({
      code: 'STORE_ROOT_NOT_SECURE',
      reason: expect.stringContaining('uid 4321'),
    });
  });

  it('refuses a root that is a link, even to a folder of its own', async () => {
    const real = join(work, 'real');
    await mkdir(real, { mode: 0o700 });
    await symlink(real, join(work, 'root'));
    await expect(secureStoreRoot(join(work, 'root'), { platform: 'linux' })).rejects.toMatchObject({
      reason: expect.stringContaining('link'),
    });
  });

  it('refuses a root that is a file', async () => {
    await writeFile(join(work, 'root'), '');
    await expect(secureStoreRoot(join(work, 'root'), { platform: 'linux' })).rejects.toBeInstanceOf(
      StoreRootNotSecureError,
    );
  });
});

describe('secureStoreRoot on Windows (advapi32 faked)', () => {
  const onWindows = (security: FakeFileSecurity) => ({ platform: 'win32' as const, security });

  it('creates a missing root with a protected DACL: LocalSystem, Administrators and its owner only', async () => {
    const security = new FakeFileSecurity();
    const root = join(work, 'hcs-sandbox');
    expect(await secureStoreRoot(root, onWindows(security))).toMatchObject({ created: true });
    expect(security.calls).toEqual([{ fn: 'CreateDirectoryW', path: root, sddl: STORE_ROOT_SDDL }]);
    expect(STORE_ROOT_SDDL).toBe('D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;OW)');
    // What it created passes the check on the next write, untouched.
    await secureStoreRoot(root, onWindows(security));
    expect(security.calls.map((c) => c.fn)).toEqual(['CreateDirectoryW', 'GetFileSecurityW']);
  });

  it.each([
    ['Administrators', 'S-1-5-32-544'],
    ['LocalSystem', 'S-1-5-18'],
    ['this user', FAKE_USER_SID],
  ])('accepts an existing root owned by %s', async (_, owner) => {
    const security = new FakeFileSecurity();
    security.existing = { owner, sddl: `O:${owner}${STORE_ROOT_SDDL}` };
    await mkdir(join(work, 'root'));
    await expect(secureStoreRoot(join(work, 'root'), onWindows(security))).resolves.toMatchObject({
      tightened: false,
    });
  });

  it('refuses a root another user made first (%ProgramData% lets every user create folders)', async () => {
    const security = new FakeFileSecurity();
    security.existing = { owner: 'S-1-5-21-1-2-3-1002', sddl: `O:S-1-5-21-1-2-3-1002${STORE_ROOT_SDDL}` };
    await mkdir(join(work, 'root'));
    await expect(secureStoreRoot(join(work, 'root'), onWindows(security))).rejects.toMatchObject({
      code: 'STORE_ROOT_NOT_SECURE',
      reason: expect.stringContaining('owned by S-1-5-21-1-2-3-1002'),
    });
    expect(security.calls.map((c) => c.fn)).toEqual(['GetFileSecurityW']); // nothing changed
  });

  it('tightens an older root that let Users in, and the records under it, never layer contents', async () => {
    const security = new FakeFileSecurity(); // `existing`: %ProgramData%'s inherited "Users: read, create"
    const root = join(work, 'root');
    for (const dir of ['sandboxes', 'layers/abc/Files', 'scratch/box'])
      await mkdir(join(root, dir), { recursive: true });
    await writeFile(join(root, 'sandboxes', 'box.json'), '{}');
    await symlink(join(work, 'elsewhere'), join(root, 'sandboxes', 'planted.json'));
    expect(await secureStoreRoot(root, onWindows(security))).toMatchObject({ tightened: true });
    const tightened = security.calls.filter((c) => c.fn === 'SetFileSecurityW').map((c) => c.path);
    expect(tightened.sort()).toEqual(
      [
        root,
        join(root, 'layers'),
        join(root, 'sandboxes'),
        join(root, 'sandboxes', 'box.json'),
        join(root, 'scratch'),
      ].sort(),
    );
    expect(security.calls.every((c) => c.fn !== 'SetFileSecurityW' || c.sddl === STORE_ROOT_SDDL)).toBe(true);
    expect(warnings).toHaveLength(1);
  });

  it('refuses a junction or symbolic link as the root without reading through it', async () => {
    const security = new FakeFileSecurity();
    await mkdir(join(work, 'real'));
    await symlink(join(work, 'real'), join(work, 'root'));
    await expect(secureStoreRoot(join(work, 'root'), onWindows(security))).rejects.toBeInstanceOf(
      StoreRootNotSecureError,
    );
    expect(security.calls).toEqual([]);
  });
});

describe('SDDL DACL trustees', () => {
  it('lists the trustees of allow ACEs, skipping deny ACEs', () => {
    expect(allowedTrustees('O:BAD:P(A;OICI;FA;;;SY)(D;;FA;;;WD)(A;OICI;0x1200a9;;;BU)')).toEqual([
      'SY',
      'BU',
    ]);
  });

  it('a NULL DACL lets everyone in', () => {
    expect(allowedTrustees('O:BAD:NO_ACCESS_CONTROL')).toBeNull();
    expect(untrustedTrustees('O:BA', [])).toEqual(['Everyone (NULL DACL)']);
  });

  it('trusts LocalSystem, Administrators, owner-relative SIDs and the SIDs given, by alias or S- form', () => {
    const sddl =
      'O:BAD:(A;;FA;;;SY)(A;;FA;;;S-1-5-32-544)(A;;FA;;;OW)(A;OICIIO;GA;;;CO)(A;;FA;;;S-1-5-21-9-1001)(A;;FR;;;AU)';
    expect(untrustedTrustees(sddl, ['S-1-5-21-9-1001'])).toEqual(['AU']);
  });
});
