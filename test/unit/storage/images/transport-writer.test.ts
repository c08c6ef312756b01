import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractLayerTar } from '../../../../src/storage/images/layer-tar.js';
import { NotAWindowsLayerError } from '../../../../src/storage/images/registry-errors.js';
import { makeTar, SAMPLE_RAWSD, type TarEntrySpec, winPax } from '../../../support/registry/push.js';
import { decodeTransportEntry, reparseTarget } from '../../../support/transport-decode.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'transport-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HIVES: TarEntrySpec[] = [
  { name: 'Hives', pax: winPax(0x10) },
  ...['DefaultUser', 'Sam', 'Security', 'Software', 'System'].map((h) => ({
    name: `Hives/${h}_Delta`,
    content: h,
  })),
];

async function extract(entries: TarEntrySpec[], parents: string[] = []) {
  const tar = join(dir, 'layer.tar');
  await writeFile(tar, await makeTar([{ name: 'Files', pax: winPax(0x10) }, ...entries, ...HIVES]));
  const out = join(dir, 'out');
  const result = await extractLayerTar(tar, out, { parents });
  const entry = async (p: string) => decodeTransportEntry(await readFile(join(out, p)));
  return { out, result, entry };
}

describe('transport format from PAX records', () => {
  it('keeps hidden/system attributes and the security descriptor from MSWINDOWS.rawsd', async () => {
    const { entry } = await extract([{ name: 'Files/boot.ini', content: 'x', pax: winPax(0x26) }]);
    const e = await entry('Files/boot.ini');
    expect(e.attributes).toBe(0x26); // hidden | system | archive
    expect(e.streams[0]).toMatchObject({ id: 3, data: Buffer.from(SAMPLE_RAWSD, 'base64') });
    expect(e.streams[1]).toMatchObject({ id: 1, data: Buffer.from('x') });
  });

  it('writes a symlink as a reparse stream and a junction as a placeholder folder with its $wcidirs$', async () => {
    const { out, entry } = await extract([
      { name: 'Files/link', type: 'symlink', linkname: 'C:\\Windows\\app.txt', pax: winPax(0x420) },
      {
        name: 'Files/junction',
        type: 'symlink',
        linkname: 'C:\\Windows',
        pax: { ...winPax(0x410), 'MSWINDOWS.mountpoint': '1' },
      },
    ]);
    const link = await entry('Files/link');
    expect(link.attributes).toBe(0x420);
    expect(link.streams.map((s) => s.id)).toEqual([3, 8]); // no data stream
    expect(reparseTarget(link.streams[1]!.data)).toEqual({
      tag: 0xa000000c,
      target: 'C:\\Windows\\app.txt',
      relative: false,
    });
    const junction = await entry('Files/junction.$wcidirs$');
    expect(junction.attributes).toBe(0x410);
    expect(reparseTarget(junction.streams[1]!.data)).toEqual({ tag: 0xa0000003, target: 'C:\\Windows' });
    expect((await stat(join(out, 'Files/junction'))).isDirectory()).toBe(true);
  });

  it('refuses an entry beneath a junction', async () => {
    const err = await extract([
      {
        name: 'Files/j',
        type: 'symlink',
        linkname: 'C:\\',
        pax: { ...winPax(0x410), 'MSWINDOWS.mountpoint': '1' },
      },
      { name: 'Files/j/evil', content: 'x' },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAWindowsLayerError);
    expect((err as Error).message).toMatch(/beneath a reparse point/);
  });

  it('appends alternate data streams and extended attributes to their file', async () => {
    const { entry } = await extract([
      { name: 'Files/a.txt', content: 'main', pax: { ...winPax(0x20), 'MSWINDOWS.xattr.K': 'dg==' } },
      { name: 'Files/a.txt:Zone.Identifier', content: 'zone' },
    ]);
    const e = await entry('Files/a.txt');
    expect(e.streams.map((s) => [s.id, s.name, s.data.toString('latin1')])).toEqual([
      [3, '', Buffer.from(SAMPLE_RAWSD, 'base64').toString('latin1')],
      [2, '', '\0\0\0\0\0\x01\x01\0K\0v\0'],
      [1, '', 'main'],
      [4, ':Zone.Identifier:$DATA', 'zone'],
    ]);
  });

  it('creates $wcidirs$ entries (default attributes) for folders the tar does not list', async () => {
    const { entry } = await extract([{ name: 'Files/a/b/c.txt', content: 'c' }]);
    expect((await entry('Files/a.$wcidirs$')).attributes).toBe(0x10);
    expect((await entry('Files/a/b.$wcidirs$')).streams).toEqual([]);
    expect((await entry('Files/a/b/c.txt')).attributes).toBe(0); // no fileattr: 0, as backuptar
  });

  it('refuses an SDDL-only security descriptor instead of dropping it', async () => {
    const err = await extract([{ name: 'Files/x', content: 'x', pax: { 'MSWINDOWS.sd': 'O:BAG:SY' } }]).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/SDDL/);
  });
});

describe('hives', () => {
  it('requires Hives/ and all five deltas, even in a base layer', async () => {
    const tar = join(dir, 'base.tar');
    await writeFile(
      tar,
      await makeTar([
        { name: 'Files', pax: winPax(0x10) },
        { name: 'Files/x', content: 'x' },
        { name: 'Hives', pax: winPax(0x10) },
        { name: 'Hives/System_Delta', content: 's' },
      ]),
    );
    const err = await extractLayerTar(tar, join(dir, 'out')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAWindowsLayerError);
    expect((err as Error).message).toContain(
      'missing Hives/DefaultUser_Delta, Hives/Sam_Delta, Hives/Security_Delta, Hives/Software_Delta',
    );
  });
});

describe('hard links and whiteouts', () => {
  it('resolves a link to an entry that comes later in the tar (a shared transport file)', async () => {
    const { out, result, entry } = await extract([
      { name: 'Files/early', type: 'link', linkname: 'Files/late.dll' },
      { name: 'Files/late.dll', content: 'late', pax: winPax(0x20) },
    ]);
    expect(result.links).toEqual({ inLayer: 1, fromParent: 0 });
    expect((await stat(join(out, 'Files/early'))).ino).toBe((await stat(join(out, 'Files/late.dll'))).ino);
    expect((await entry('Files/early')).streams.at(-1)?.data.toString()).toBe('late');
  });

  it('resolves a chain of links whose targets are themselves links', async () => {
    const { result, entry } = await extract([
      { name: 'Files/a', type: 'link', linkname: 'Files/b' },
      { name: 'Files/b', type: 'link', linkname: 'Files/c' },
      { name: 'Files/c', content: 'c' },
    ]);
    expect(result.links.inLayer).toBe(2);
    expect((await entry('Files/a')).streams.at(-1)?.data.toString()).toBe('c');
  });

  it('writes a link to a parent layer’s file as a full copy of it (nearest parent first)', async () => {
    const near = join(dir, 'near');
    const far = join(dir, 'far');
    await mkdir(join(far, 'Files/Windows'), { recursive: true });
    await writeFile(join(far, 'Files/Windows/base.dll'), 'from the base');
    await mkdir(join(near, 'Files'), { recursive: true });
    const { result, entry } = await extract(
      [
        {
          name: 'Files/Windows/copy.dll',
          type: 'link',
          linkname: 'Files/Windows/base.dll',
          pax: winPax(0x21),
        },
      ],
      [near, far],
    );
    expect(result.links).toEqual({ inLayer: 0, fromParent: 1 });
    const e = await entry('Files/Windows/copy.dll');
    expect(e.attributes).toBe(0x21);
    expect(e.streams.at(-1)).toMatchObject({ id: 1, data: Buffer.from('from the base') });
  });

  it('refuses a link whose target is nowhere', async () => {
    const err = await extract([{ name: 'Files/x', type: 'link', linkname: 'Files/missing' }]).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotAWindowsLayerError);
    expect((err as Error).message).toMatch(/neither in this layer nor in a parent/);
  });

  it('turns a whiteout into a tombstone and drops the entry if this layer wrote it', async () => {
    const { out, result } = await extract([
      { name: 'Files/Windows', pax: winPax(0x10) },
      { name: 'Files/Windows/tmp.log', content: 'x' },
      { name: 'Files/Windows/.wh.tmp.log', content: '' },
      { name: 'Files/Windows/.wh.parent.dll', content: '' },
    ]);
    expect(result.tombstones).toEqual(['\\Windows\\tmp.log', '\\Windows\\parent.dll']);
    expect(await readFile(join(out, 'tombstones.txt'), 'utf8')).toBe(
      '\ufeffVersion 1.0\n\\Windows\\tmp.log\n\\Windows\\parent.dll\n',
    );
    await expect(stat(join(out, 'Files/Windows/tmp.log'))).rejects.toThrow();
  });
});
