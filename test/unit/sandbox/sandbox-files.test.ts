import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setFilesNative } from '../../../src/native/index.js';
import { SandboxFiles } from '../../../src/sandbox/sandbox-files.js';
import { FakeFiles, linkTestFolders } from '../../support/fake-files.js';

/**
 * The files API against a Linux folder standing in for the mounted writable
 * layer, with Linux symbolic links standing in for links planted inside the
 * sandbox (test/support/fake-files.ts). Each link points at `outside`, a host
 * folder the sandbox must never reach.
 */
let dir: string;
let volume: string;
let outside: string;
let fake: FakeFiles;
let files: SandboxFiles;

beforeEach(() => {
  ({ dir, volume, outside } = linkTestFolders('sandbox-files-'));
  fake = new FakeFiles();
  setFilesNative(fake);
  files = new SandboxFiles('box', () => volume);
});

afterEach(() => {
  setFilesNative(undefined);
  rmSync(dir, { recursive: true, force: true });
});

function outsideUntouched(): void {
  expect(readdirSync(outside)).toEqual(['secret.txt']);
  expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('host secret');
}

async function refusedAsLink(promise: Promise<unknown>, path: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({
    name: 'SandboxPathLinkError',
    code: 'PATH_IS_LINK',
    kind: 'conflict',
    path,
  });
  expect(fake.open).toBe(0);
  outsideUntouched();
}

describe('SandboxFiles without links', () => {
  it('writes (creating folders), reads text and bytes, and leaves no handle open', async () => {
    await files.write('C:\\work\\deep\\er\\a.txt', 'hello');
    expect(readFileSync(join(volume, 'work', 'deep', 'er', 'a.txt'), 'utf8')).toBe('hello');
    expect(await files.read('C:\\work\\deep\\er\\a.txt')).toBe('hello');
    await files.write('C:\\work\\deep\\er\\a.txt', new Uint8Array([0, 255, 1]));
    expect(await files.read('C:\\work\\deep\\er\\a.txt', { encoding: 'bytes' })).toEqual(
      new Uint8Array([0, 255, 1]),
    );
    expect(fake.open).toBe(0);
  });

  it('copies a folder tree in and out', async () => {
    const source = join(dir, 'src');
    mkdirSync(join(source, 'sub'), { recursive: true });
    writeFileSync(join(source, 'a.txt'), 'A');
    writeFileSync(join(source, 'sub', 'b.bin'), Buffer.from([1, 2, 3]));
    await files.copyIn(source, 'C:\\in\\tree');
    expect(readFileSync(join(volume, 'in', 'tree', 'sub', 'b.bin'))).toEqual(Buffer.from([1, 2, 3]));
    const back = join(dir, 'back', 'tree');
    await files.copyOut('C:\\in\\tree', back);
    expect(readFileSync(join(back, 'a.txt'), 'utf8')).toBe('A');
    expect(readFileSync(join(back, 'sub', 'b.bin'))).toEqual(Buffer.from([1, 2, 3]));
    await files.copyIn(join(source, 'a.txt'), 'C:\\one.txt');
    await files.copyOut('C:\\one.txt', join(dir, 'one', 'copy.txt'));
    expect(readFileSync(join(dir, 'one', 'copy.txt'), 'utf8')).toBe('A');
    expect(fake.open).toBe(0);
  });

  it('says which name is missing, as a typed not-found', async () => {
    await expect(files.read('C:\\work\\nope\\a.txt')).rejects.toMatchObject({
      code: 'PATH_NOT_FOUND',
      kind: 'not-found',
      path: 'C:\\work\\nope',
    });
    expect(fake.open).toBe(0);
  });

  it('opens a placeholder a filter serves (a non-surrogate reparse point) through the filter, never raw', async () => {
    writeFileSync(join(volume, 'work', 'dedup.txt'), 'through the filter');
    fake.placeholders.add('dedup.txt');
    expect(await files.read('C:\\work\\dedup.txt')).toBe('through the filter');
    expect(fake.calls.slice(-2)).toEqual(['open-link dedup.txt', 'refuse dedup.txt']);
  });

  it('refuses names NtCreateFile would take literally (streams, trailing dots) before opening anything', async () => {
    for (const path of ['C:\\work\\a.txt:stream', 'C:\\work\\a.', 'C:\\work\\a ', 'C:\\work\\a?']) {
      await expect(files.write(path, 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'path' });
    }
    expect(fake.calls).toEqual([]);
  });
});

describe('SandboxFiles refuses links planted inside the sandbox', () => {
  beforeEach(() => {
    symlinkSync(outside, join(volume, 'work', 'dirlink'));
    symlinkSync(join(outside, 'secret.txt'), join(volume, 'work', 'filelink'));
  });

  it('read: a folder link on the way, or the file itself a link', async () => {
    await refusedAsLink(files.read('C:\\work\\dirlink\\secret.txt'), 'C:\\work\\dirlink');
    await refusedAsLink(files.read('C:\\work\\filelink'), 'C:\\work\\filelink');
  });

  it('write: never through a folder link, never over a file link', async () => {
    await refusedAsLink(files.write('C:\\work\\dirlink\\planted.txt', 'x'), 'C:\\work\\dirlink');
    await refusedAsLink(files.write('C:\\work\\dirlink\\new\\planted.txt', 'x'), 'C:\\work\\dirlink');
    await refusedAsLink(files.write('C:\\work\\filelink', 'overwritten'), 'C:\\work\\filelink');
  });

  it('copyIn: never into a link at the destination or on the way, file or folder', async () => {
    const source = join(dir, 'src');
    mkdirSync(join(source, 'dirlink'), { recursive: true });
    writeFileSync(join(source, 'dirlink', 'planted.txt'), 'x');
    writeFileSync(join(source, 'filelink'), 'overwritten');
    await refusedAsLink(files.copyIn(join(source, 'filelink'), 'C:\\work\\filelink'), 'C:\\work\\filelink');
    await refusedAsLink(files.copyIn(source, 'C:\\work\\dirlink\\x'), 'C:\\work\\dirlink');
    // A folder of the tree lands on the planted link.
    rmSync(join(source, 'filelink'));
    await refusedAsLink(files.copyIn(source, 'C:\\work'), 'C:\\work\\dirlink');
  });

  it('copyOut: a link in the path or anywhere in the tree stops the copy; no host file is written through it', async () => {
    const back = join(dir, 'back');
    await refusedAsLink(files.copyOut('C:\\work\\dirlink', back), 'C:\\work\\dirlink');
    await refusedAsLink(files.copyOut('C:\\work\\filelink', join(back, 'f')), 'C:\\work\\filelink');
    const tree = join(dir, 'tree');
    await expect(files.copyOut('C:\\work', tree)).rejects.toMatchObject({ code: 'PATH_IS_LINK' });
    expect(fake.open).toBe(0);
    const copied = readdirSync(tree, { recursive: true }) as string[];
    expect(copied.some((name) => name.includes('secret'))).toBe(false);
  });

  it('copyOut: a sandbox name that would open a host device is refused', async () => {
    rmSync(join(volume, 'work', 'dirlink'));
    rmSync(join(volume, 'work', 'filelink'));
    writeFileSync(join(volume, 'work', 'NUL.txt'), 'x');
    await expect(files.copyOut('C:\\work', join(dir, 'tree'))).rejects.toMatchObject({
      code: 'PATH_NAME_UNSAFE',
      kind: 'conflict',
    });
    expect(fake.open).toBe(0);
  });
});

/** The tree list/remove work on: files, a folder, and a link to `outside`. */
function plantTree(): void {
  mkdirSync(join(volume, 'work', 'sub'));
  writeFileSync(join(volume, 'work', 'a.txt'), 'hello');
  writeFileSync(join(volume, 'work', 'sub', 'b.txt'), 'b');
  symlinkSync(outside, join(volume, 'work', 'escape'));
}

describe('files.list', () => {
  beforeEach(plantTree);

  it('lists a folder with types, sizes and times; a link is a link', async () => {
    const entries = await files.list('C:\\work');
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(Object.keys(byName).sort()).toEqual(['a.txt', 'escape', 'sub']);
    expect(byName['a.txt']).toMatchObject({ type: 'file', size: 5 });
    expect(byName['a.txt']?.modified).toBeInstanceOf(Date);
    expect(byName.sub).toMatchObject({ type: 'directory', size: 0 });
    expect(byName.escape).toMatchObject({ type: 'link', size: 0 });
    expect(fake.open).toBe(0);
  });

  it('lists the root as C:\\', async () => {
    expect((await files.list('C:\\')).map((e) => e.name)).toEqual(['work']);
  });

  it('never lists through a link', async () => {
    await expect(files.list('C:\\work\\escape')).rejects.toMatchObject({ code: 'PATH_IS_LINK' });
    expect(fake.open).toBe(0);
  });

  it('answers PATH_NOT_FOUND for a missing folder, and refuses a relative path before any call', async () => {
    await expect(files.list('C:\\nope')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(files.list('work')).rejects.toMatchObject({ name: 'InvalidArgumentError' });
    expect(fake.calls.filter((c) => c.startsWith('remove'))).toEqual([]);
  });
});

describe('files.remove', () => {
  beforeEach(plantTree);

  it('removes a file', async () => {
    await files.remove('C:\\work\\a.txt');
    expect(existsSync(join(volume, 'work', 'a.txt'))).toBe(false);
  });

  it('refuses a folder with contents unless recursive, then removes the tree and its links as links', async () => {
    await expect(files.remove('C:\\work')).rejects.toMatchObject({
      name: 'SandboxPathNotRemovableError',
      code: 'FOLDER_NOT_EMPTY',
      kind: 'conflict',
      path: 'C:\\work',
    });
    expect(existsSync(join(volume, 'work', 'a.txt'))).toBe(true);
    await files.remove('C:\\work', { recursive: true });
    expect(readdirSync(volume)).toEqual([]);
    // The link went; what it pointed at did not.
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(fake.open).toBe(0);
  });

  it('removes a link itself, never its target', async () => {
    await files.remove('C:\\work\\escape', { recursive: true });
    expect(existsSync(join(volume, 'work', 'escape'))).toBe(false);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('never removes through a link on the way', async () => {
    await expect(files.remove('C:\\work\\escape\\secret.txt')).rejects.toMatchObject({
      code: 'PATH_IS_LINK',
    });
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('answers PATH_NOT_FOUND, and refuses C:\\ itself', async () => {
    await expect(files.remove('C:\\work\\nope.txt')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(files.remove('C:\\')).rejects.toMatchObject({ name: 'InvalidArgumentError' });
  });
});
