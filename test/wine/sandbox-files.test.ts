import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newInstance, runOk, winePath } from './harness.js';

const homes: string[] = [];
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Wine path on drive Z: (the Linux root) back to its Linux path. */
function linuxPath(path: string): string {
  const match = /^(?:\\\\\?\\)?Z:(\\.*)$/i.exec(path);
  if (!match) throw new Error(`not a drive Z: path: ${path}`);
  return (match[1] as string).replace(/\\/g, '/');
}

/**
 * The files API through ntdll's NtCreateFile, relative to each parent's
 * handle, under Wine 8. What Wine can show of a link is limited (a probe,
 * docs/windows-verification.md): a Linux symbolic link is followed by every
 * open, FILE_OPEN_REPARSE_POINT or not, and the handle never reports a reparse
 * point; CreateSymbolicLinkW reports success and creates nothing, and
 * FSCTL_SET_REPARSE_POINT fails. Only a directory listing shows a symbolic link
 * to a folder, as FILE_ATTRIBUTE_REPARSE_POINT without a tag. So this test shows
 * the plain paths working through the real bindings, and copyOut refusing a
 * planted folder link from the listing; the handle checks (read, write, copyIn,
 * and copyOut of the link itself) are covered by the unit tier
 * (test/unit/sandbox/sandbox-files.test.ts) and by real Windows only.
 */
describe('sandbox files through the no-follow opener (simulated host)', () => {
  it('moves files and trees, and copyOut refuses a folder link planted in the volume, leaving the host untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcs-files-'));
    homes.push(dir);
    const hostDir = join(dir, 'host');
    mkdirSync(hostDir);
    const options = {
      instance: newInstance('files'),
      env: { HCS_SANDBOX_HOME: winePath(dir), HCSSIM_STORAGE_ROOT: winePath(join(dir, 'sim-storage')) },
      timeoutMs: 120_000,
    };
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const setup = await runOk<Record<string, any>>(
      'sandbox-files.mjs',
      ['setup', winePath(hostDir)],
      options,
    );
    expect(setup.read).toBe('plain');
    expect(setup.bytes).toEqual([0, 255]);
    expect(setup.copiedBack).toBe('tree file');
    expect(setup.missing).toEqual({
      name: 'SandboxPathNotFoundError',
      code: 'PATH_NOT_FOUND',
      path: 'C:\\work\\nope.txt',
    });
    // list and remove through the real ntdll bindings (NtQueryDirectoryFile, NtSetInformationFile).
    expect(setup.listed).toEqual([['sub', 'directory']]);
    expect(setup.listedSub).toEqual([['b.txt', 'file', 9, true]]);
    expect(setup.notEmpty).toEqual({
      name: 'SandboxPathNotRemovableError',
      code: 'FOLDER_NOT_EMPTY',
      path: 'C:\\in',
    });
    expect(setup.inGone).toBe(true);

    // Plant a link inside the sandbox's volume, as a process inside would.
    const volume = linuxPath(setup.volumePath);
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'host secret');
    symlinkSync(outside, join(volume, 'work', 'dirlink'));

    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const attack = await runOk<Record<string, any>>(
      'sandbox-files.mjs',
      ['attack', winePath(hostDir)],
      options,
    );
    const refused = { name: 'SandboxPathLinkError', code: 'PATH_IS_LINK', path: 'C:\\work\\dirlink' };
    expect(attack.copyOutTree).toEqual(refused);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('host secret');
    expect(existsSync(join(hostDir, 'out', 'dirlink'))).toBe(false);
  });
});
