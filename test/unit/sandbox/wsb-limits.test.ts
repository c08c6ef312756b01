import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WsbError } from '../../../src/sandbox/errors.js';
import { parseWsb, readWsbFile, WSB_MAX_FILE_BYTES } from '../../../src/sandbox/wsb/reader.js';

/** Hostile `.wsb` input: every bad file is refused in bounded time and memory (issue 13, items 9 and 14). */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsb-limits-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A one-line configuration of `count` mapped folders. */
function oneLine(count: number): string {
  const folders = Array.from(
    { length: count },
    (_, i) =>
      `<MappedFolder><HostFolder>C:\\h</HostFolder><SandboxFolder>C:\\s${i}</SandboxFolder></MappedFolder>`,
  );
  return `<Configuration><MappedFolders>${folders.join('')}</MappedFolders></Configuration>`;
}

describe('the .wsb reader on large input', () => {
  it('parses a one-line file of almost 1 MiB in linear time', () => {
    // About 12,000 elements on one line: the old reader counted each one's
    // column from the start of the line (minutes); a linear one takes well
    // under a second. The bound is loose for a loaded machine.
    let count = 10_000;
    while (oneLine(count + 100).length < WSB_MAX_FILE_BYTES) count += 100;
    const text = oneLine(count);
    expect(text.length).toBeGreaterThan(WSB_MAX_FILE_BYTES - 10_000);
    const started = performance.now();
    const config = parseWsb(Buffer.from(text));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(config.mappedFolders).toHaveLength(count);
    const last = config.mappedFolders[count - 1]!;
    expect(last.sandboxFolder).toBe(`C:\\s${count - 1}`);
    expect(last.position).toEqual({ line: 1, column: text.lastIndexOf('<MappedFolder>') + 1 });
  }, 20_000);

  it('counts columns in code points across many elements on a line', () => {
    const text = '<Configuration><!--😀😀--><Networking>Enable</Networking><!--é😀--><X/></Configuration>';
    const error = expectWsbError(() => parseWsb(text));
    expect([error.line, error.column]).toEqual([1, [...text.slice(0, text.indexOf('<X/>'))].length + 1]);
  });

  it('refuses text over the limit in UTF-8 bytes, even when it has fewer characters', () => {
    const tooLong = `<Configuration><LogonCommand><Command>${'x'.repeat(WSB_MAX_FILE_BYTES)}</Command></LogonCommand></Configuration>`;
    expect(expectWsbError(() => parseWsb(tooLong)).message).toContain('bytes long in UTF-8');
    // Two bytes each in UTF-8: under the limit in characters, over it in bytes.
    const wide = `<Configuration><LogonCommand><Command>${'é'.repeat(WSB_MAX_FILE_BYTES / 2)}</Command></LogonCommand></Configuration>`;
    expect(wide.length).toBeLessThan(WSB_MAX_FILE_BYTES);
    expect(expectWsbError(() => parseWsb(wide)).message).toContain(
      `the text is ${Buffer.byteLength(wide)} bytes long in UTF-8`,
    );
  });

  it('refuses a file over the limit', async () => {
    const path = join(tempDir(), 'big.wsb');
    writeFileSync(path, Buffer.alloc(WSB_MAX_FILE_BYTES + 1, 0x20));
    const error = await readWsbFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WsbError);
    expect((error as WsbError).message).toContain(`longer than ${WSB_MAX_FILE_BYTES} bytes`);
  });

  it.skipIf(process.platform === 'win32')(
    'reads no more than the limit from an endless source, then refuses it',
    async () => {
      // A pipe whose writer never closes: reading it to the end never ends.
      const fifo = join(tempDir(), 'endless.wsb');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const writer = createWriteStream(fifo);
      writer.on('error', () => undefined); // EPIPE once the reader has closed
      cleanups.unshift(() => writer.destroy());
      writer.write(Buffer.alloc(WSB_MAX_FILE_BYTES + 64 * 1024, 0x20));
      const error = await readWsbFile(fifo).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WsbError);
      expect((error as WsbError).message).toContain(`longer than ${WSB_MAX_FILE_BYTES} bytes`);
    },
    5000,
  );
});

function expectWsbError(fn: () => unknown): WsbError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WsbError);
    return error as WsbError;
  }
  throw new Error('expected a WsbError');
}
