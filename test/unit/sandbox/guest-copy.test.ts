import {
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
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentDirEntry, AgentFileInfo } from '../../../src/sandbox/agent/index.js';
import { copyIntoGuest, copyOutOfGuest, type GuestFileAgent } from '../../../src/sandbox/guest-copy.js';

/**
 * Folder copies through a VM's agent, against a fake guest: a map of guest
 * paths to folders and files. The guest is hostile, so the fake also lies: it
 * lists names that would escape the host folder, device names, links, and
 * endless trees; each must be refused before it becomes a host file.
 */
type GuestNode = { dir: true; attributes?: number } | { dir: false; data: Buffer; attributes?: number };

class FakeGuest implements GuestFileAgent {
  readonly nodes = new Map<string, GuestNode>();
  /** Folders the fake invents below any listed one (a guest inventing depth). */
  endless = false;
  /** Names the fake lists in every folder besides what it holds (a lying guest). */
  readonly lies: string[] = [];

  info(node: GuestNode): AgentFileInfo {
    const attributes = (node.attributes ?? 0) | (node.dir ? 0x10 : 0x20);
    return { attributes, size: node.dir ? 0 : node.data.length, modified: undefined, isDirectory: node.dir };
  }

  #node(path: string): GuestNode {
    const node = this.nodes.get(path.toLowerCase());
    if (!node) throw Object.assign(new Error(`no ${path}`), { win32: 2 });
    return node;
  }

  async stat(path: string) {
    if (this.endless) return this.info({ dir: true });
    return this.info(this.#node(path));
  }

  async list(path: string): Promise<AgentDirEntry[]> {
    if (this.endless) return [{ ...this.info({ dir: true }), name: 'again' }];
    const prefix = `${path.toLowerCase()}\\`;
    const held = [...this.nodes.entries()]
      .filter(([p]) => p.startsWith(prefix) && !p.slice(prefix.length).includes('\\'))
      .map(([p, node]) => ({ ...this.info(node), name: p.slice(prefix.length) }));
    return [
      ...held,
      ...this.lies.map((name) => ({ ...this.info({ dir: false, data: Buffer.from('x') }), name })),
    ];
  }

  getFile(path: string) {
    const node = this.#node(path);
    if (node.dir) throw new Error('a folder');
    return { info: Promise.resolve(this.info(node)), data: Readable.from([node.data]) };
  }

  async putFile(
    path: string,
    source: Uint8Array | AsyncIterable<Uint8Array>,
    options: { attributes?: number } = {},
  ) {
    if ((options.attributes ?? 0) & 0x10) {
      this.nodes.set(path.toLowerCase(), { dir: true });
      return 0;
    }
    const chunks: Buffer[] = [];
    if (source instanceof Uint8Array) chunks.push(Buffer.from(source));
    else for await (const chunk of source) chunks.push(Buffer.from(chunk));
    this.nodes.set(path.toLowerCase(), { dir: false, data: Buffer.concat(chunks) });
    return Buffer.concat(chunks).length;
  }
}

let dir: string;
let guest: FakeGuest;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'guest-copy-'));
  guest = new FakeGuest();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('folder copies through the agent', () => {
  it('copies a host tree in and back out, byte for byte, empty folders included', async () => {
    const source = join(dir, 'src');
    mkdirSync(join(source, 'sub', 'empty'), { recursive: true });
    writeFileSync(join(source, 'a.txt'), 'alpha');
    writeFileSync(join(source, 'sub', 'b.bin'), Buffer.from([0, 1, 255]));
    await copyIntoGuest(guest, source, 'C:\\in');
    expect([...guest.nodes.keys()].sort()).toEqual([
      'c:\\in',
      'c:\\in\\a.txt',
      'c:\\in\\sub',
      'c:\\in\\sub\\b.bin',
      'c:\\in\\sub\\empty',
    ]);
    const back = join(dir, 'back');
    await copyOutOfGuest(guest, 'C:\\in', back);
    expect(readFileSync(join(back, 'a.txt'), 'utf8')).toBe('alpha');
    expect([...readFileSync(join(back, 'sub', 'b.bin'))]).toEqual([0, 1, 255]);
    expect(readdirSync(join(back, 'sub')).sort()).toEqual(['b.bin', 'empty']);
  });

  it('refuses a host tree with a symbolic-link cycle', async () => {
    const source = join(dir, 'loop');
    mkdirSync(source);
    symlinkSync(source, join(source, 'self'));
    await expect(copyIntoGuest(guest, source, 'C:\\in')).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    });
  });

  it.each([
    ['..', 'a parent reference'],
    ['a\\..\\..\\x', 'separators'],
    ['NUL', 'a device name'],
    ['COM1.txt', 'a device name with an extension'],
    ['trailing.', 'a trailing dot'],
  ])('refuses a guest name %j (%s) before any host file is made', async (name) => {
    guest.nodes.set('c:\\out', { dir: true });
    guest.lies.push(name);
    await expect(copyOutOfGuest(guest, 'C:\\out', join(dir, 'host', 'out'))).rejects.toMatchObject({
      code: 'PATH_NAME_UNSAFE',
    });
    expect(readdirSync(join(dir, 'host', 'out'))).toEqual([]);
    expect(readdirSync(dir)).toEqual(['host']);
  });

  it('stops at a link inside the guest tree, and refuses a link as the source', async () => {
    guest.nodes.set('c:\\out', { dir: true });
    guest.nodes.set('c:\\out\\j', { dir: true, attributes: 0x400 });
    await expect(copyOutOfGuest(guest, 'C:\\out', join(dir, 'o1'))).rejects.toMatchObject({
      code: 'PATH_IS_LINK',
      path: 'C:\\out\\j',
    });
    await expect(copyOutOfGuest(guest, 'C:\\out\\j', join(dir, 'o2'))).rejects.toMatchObject({
      code: 'PATH_IS_LINK',
    });
  });

  it('refuses a tree the guest makes endless', async () => {
    guest.endless = true;
    await expect(copyOutOfGuest(guest, 'C:\\deep', join(dir, 'deep'))).rejects.toMatchObject({
      name: 'AgentProtocolError',
    });
  });
});
