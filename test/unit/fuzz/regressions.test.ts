/**
 * The minimal counterexamples the property tests of this folder found, kept
 * as plain cases: each failed on the code before its fix.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { extractLayerTar } from '../../../src/storage/images/layer-tar.js';
import { parseReference } from '../../../src/storage/images/reference.js';
import { NotAWindowsLayerError } from '../../../src/storage/images/registry-errors.js';
import { makeTar } from '../../support/registry/push.js';
import { headerOffsets, setHeaderField } from './tar-headers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fuzz-regressions-'));
  return () => rm(dir, { recursive: true, force: true });
});

describe('found by the fuzz tests', () => {
  it('a reference that fits 255 characters only as written is refused (Docker counts docker.io/library/)', () => {
    const input = `${'a.'.repeat(124)}a`;
    expect(() => parseReference(input)).toThrow(/longer than 255 characters once normalised/);
  });

  it('a tar entry with a GNU base-256 size of 2^64 is a NotAWindowsLayerError, not a RangeError', async () => {
    const tar = Buffer.from(
      await makeTar([{ name: 'Files' }, { name: 'Files/Windows/a.txt', content: 'x' }]),
    );
    const name = 'Files/Windows/a.txt\0';
    const file = headerOffsets(tar).find((at) => tar.toString('latin1', at, at + name.length) === name);
    if (file === undefined) throw new Error('the sample layer has no Files/Windows/a.txt');
    // Counterexample: size field [0x80, 0, 0, 1, 0 x 8] (big-endian 2^64), checksum fixed.
    setHeaderField(tar, file, 'size', Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    const path = join(dir, 'layer.tar');
    await writeFile(path, tar);
    const err = await extractLayerTar(path, join(dir, 'out')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAWindowsLayerError);
    expect((err as Error).message).toMatch(/size .* is not a whole number of bytes/);
  });
});
