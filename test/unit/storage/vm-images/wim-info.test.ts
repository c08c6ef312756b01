import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/index.js';
import { readWimInfo, selectWimImage, WimFormatError } from '../../../../src/storage/index.js';
import { MAX_WIM_XML_BYTES } from '../../../../src/storage/vm-images/wim-info.js';
import { WINDOWS_11, wimFile } from './wim-fixture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wim-info-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function fixture(bytes: Buffer, name = 'install.wim'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('readWimInfo', () => {
  it('lists every image with its index, names, edition, build, architecture and size', async () => {
    const info = await readWimInfo(await fixture(wimFile(WINDOWS_11)));
    expect(info.imageCount).toBe(2);
    expect(info.images).toEqual([
      {
        index: 1,
        name: 'Windows 11 Home',
        displayName: 'Windows 11 Home',
        edition: 'Core',
        build: 26100,
        architecture: 'amd64',
        sizeBytes: 1000,
      },
      {
        index: 2,
        name: 'Windows 11 Pro',
        displayName: 'Windows 11 Pro',
        edition: 'Professional',
        build: 26100,
        architecture: 'amd64',
        sizeBytes: 19_000_000_000,
      },
    ]);
  });

  it.each([
    ['a file shorter than the header', wimFile(WINDOWS_11).subarray(0, 100), /shorter than a WIM header/],
    ['a wrong magic', wimFile(WINDOWS_11, { magic: 'NOTAWIM\0' }), /no "MSWIM" magic/],
    ['a pipable WIM', wimFile(WINDOWS_11, { magic: 'WLPWM\0\0\0' }), /pipable/],
    ['another header size', wimFile(WINDOWS_11, { headerSize: 300 }), /header size 300/],
    ['a compressed XML resource', wimFile(WINDOWS_11, { flags: 0x04 }), /compressed/],
    [
      'an XML resource past the end (truncated file)',
      wimFile(WINDOWS_11).subarray(0, 400),
      /outside the \d+-byte file/,
    ],
    ['an XML resource over the cap', wimFile(WINDOWS_11, { xmlSize: MAX_WIM_XML_BYTES + 2 }), /exceeds the/],
    ['an odd XML size', wimFile(WINDOWS_11, { xmlSize: 101 }), /not UTF-16/],
    ['an XML offset inside the header', wimFile(WINDOWS_11, { xmlOffset: 8 }), /outside/],
    [
      'XML that does not parse',
      wimFile([], { xml: '<WIM><IMAGE INDEX="1">', imageCount: 1 }),
      /does not parse/,
    ],
    ['another root element', wimFile([], { xml: '<NOTWIM/>' }), /no <WIM> root/],
    ['an image count the XML contradicts', wimFile(WINDOWS_11, { imageCount: 3 }), /counts 3 images/],
    ['a bad INDEX', wimFile([], { xml: '<WIM><IMAGE INDEX="x"/></WIM>', imageCount: 1 }), /INDEX "x"/],
  ])('refuses %s with WimFormatError', async (_, bytes, message) => {
    const path = await fixture(bytes);
    const error = await readWimInfo(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WimFormatError);
    expect((error as WimFormatError).code).toBe('WIM_FORMAT');
    expect((error as Error).message).toMatch(message);
  });
});

describe('selectWimImage', () => {
  const info = {
    path: 'install.wim',
    imageCount: 2,
    images: [
      { index: 1, name: 'Windows 11 Home', displayName: 'Windows 11 Home', edition: 'Core' },
      { index: 2, name: 'Windows 11 Pro', displayName: 'Windows 11 Pro', edition: 'Professional' },
    ],
  };

  it('picks by index, by edition id or display name (any case), or the only image', () => {
    expect(selectWimImage(info, { index: 2 }).name).toBe('Windows 11 Pro');
    expect(selectWimImage(info, { edition: 'professional' }).index).toBe(2);
    expect(selectWimImage(info, { edition: 'Windows 11 Home' }).index).toBe(1);
    expect(selectWimImage({ ...info, images: [info.images[0]!] }, {}).index).toBe(1);
  });

  it('lists the images when the choice is missing, unknown or ambiguous', () => {
    expect(() => selectWimImage(info, {})).toThrow(
      /1: Windows 11 Home \(Core\); 2: Windows 11 Pro \(Professional\)/,
    );
    expect(() => selectWimImage(info, {})).toThrow(InvalidArgumentError);
    expect(() => selectWimImage(info, { index: 3 })).toThrow(/Invalid index.*1: Windows 11 Home/);
    expect(() => selectWimImage(info, { edition: 'Enterprise' })).toThrow(/Invalid edition/);
    const twins = { ...info, images: [info.images[1]!, { ...info.images[1]!, index: 3 }] };
    expect(() => selectWimImage(twins, { edition: 'Professional' })).toThrow(/several images match/);
  });
});

describe('readWimInfo against wimlib', () => {
  // Debian's wimtools, installed by test-host/prepare.sh (as docker-registry is for the pull tests).
  const wimcapture = process.env.HCS_TEST_WIMCAPTURE ?? '/usr/bin/wimcapture';

  it('reads what wimcapture writes (two images, appended)', async () => {
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'hello.txt'), 'hello');
    const wim = join(dir, 'real.wim');
    try {
      execFileSync(wimcapture, [tree, wim, 'First image', '--flags=Professional'], { stdio: 'pipe' });
      execFileSync(wimcapture.replace(/wimcapture$/, 'wimappend'), [tree, wim, 'Second image'], {
        stdio: 'pipe',
      });
    } catch (err) {
      throw new Error(
        `${wimcapture} failed: run test-host/prepare.sh (or apt-get install -y wimtools): ${(err as Error).message}`,
      );
    }
    const info = await readWimInfo(wim);
    expect(info.images.map((i) => [i.index, i.name])).toEqual([
      [1, 'First image'],
      [2, 'Second image'],
    ]);
    expect(info.images[0]!.sizeBytes).toBeGreaterThan(0);
    expect(selectWimImage(info, { edition: 'second image' }).index).toBe(2);
  });
});
