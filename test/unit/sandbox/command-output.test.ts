import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { ComputeSystem } from '../../../src/hcs/index.js';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import type { CommandResult } from '../../../src/sandbox/command-errors.js';
import { type CommandHandle, runCommand, spawnCommand } from '../../../src/sandbox/commands.js';
import { CommandExitError, TimeoutError } from '../../../src/sandbox/index.js';
import type { FakeProcess } from '../../support/fake-computecore.js';
import { rejectionOf, withSystem } from '../../support/fake-harness.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';

// Output as Buffer chunks, decoded once (issue 16): bytes, split characters,
// encoding: 'buffer', callbacks, and the handle's Readables with pipeline().

// The schema builders take Windows host paths; the temporary home here is POSIX.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const host = useFakeSandboxHost();

/** Every process writes these chunks (one write each) to stdout and stderr, then exits with `code`. */
function script(out: Buffer[], code = 0, err: Buffer[] = []): void {
  host.hcs.fake.processScript = (p) => {
    for (const chunk of out) p.stdout?.write(chunk);
    for (const chunk of err) p.stderr?.write(chunk);
    host.hcs.fake.exitProcess(p.pid, code);
  };
}

function lastProcess(): FakeProcess {
  const process = host.hcs.fake.processes.at(-1);
  if (!process) throw new Error('no process was created');
  return process;
}

/** Every byte value, three times over, cut into uneven chunks. */
const BINARY = Buffer.from(Array.from({ length: 768 }, (_, i) => i % 256));
const BINARY_CHUNKS = [BINARY.subarray(0, 1), BINARY.subarray(1, 300), BINARY.subarray(300)];

/** Two-, three- and four-byte UTF-8 characters, each cut between its bytes. */
const TEXT = 'aé€😀z';
const TEXT_BYTES = Buffer.from(TEXT, 'utf8'); // a, c3 a9, e2 82 ac, f0 9f 98 80, z
const SPLIT_CHUNKS = [2, 4, 8, 11].map((end, i, ends) => TEXT_BYTES.subarray(ends[i - 1] ?? 0, end));

describe('output bytes', () => {
  it("returns the bytes as written with encoding: 'buffer', stdout and stderr", async () => {
    script(BINARY_CHUNKS, 0, [Buffer.from([0xff, 0x00, 0xfe])]);
    await withSystem(async (system) => {
      const result = await runCommand(system, 'dump.exe', { encoding: 'buffer' });
      expect(Buffer.isBuffer(result.stdout)).toBe(true);
      expect(result.stdout.equals(BINARY)).toBe(true);
      expect([...result.stderr]).toEqual([0xff, 0x00, 0xfe]);
    });
  });

  it('returns empty Buffers for a command without output', async () => {
    script([]);
    await withSystem(async (system) => {
      const result = await runCommand(system, 'quiet.exe', { encoding: 'buffer' });
      expect(result.stdout).toEqual(Buffer.alloc(0));
      expect(result.stderr).toEqual(Buffer.alloc(0));
    });
  });

  it('decodes characters split across chunks whole, in the result and in onStdout', async () => {
    script(SPLIT_CHUNKS);
    await withSystem(async (system) => {
      const chunks: string[] = [];
      const result = await runCommand(system, 'type utf8.txt', { onStdout: (c) => chunks.push(c) });
      expect(result.stdout).toBe(TEXT);
      expect(chunks.join('')).toBe(TEXT);
      expect(chunks.join('')).not.toContain('\ufffd');
      expect(chunks.length).toBeGreaterThan(1); // streamed, not held to the end
    });
  });

  it("gives onStdout/onStderr the Buffers themselves with encoding: 'buffer'", async () => {
    script(BINARY_CHUNKS, 0, [Buffer.from('warn')]);
    await withSystem(async (system) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      await runCommand(system, 'dump.exe', {
        encoding: 'buffer',
        onStdout: (c) => out.push(c),
        onStderr: (c) => err.push(c),
      });
      expect(out.every((c) => Buffer.isBuffer(c))).toBe(true);
      expect(Buffer.concat(out).equals(BINARY)).toBe(true);
      expect(Buffer.concat(err).toString()).toBe('warn');
    });
  });

  it("rejects with a CommandExitError carrying Buffers with encoding: 'buffer'", async () => {
    script([Buffer.from([1, 2, 3])], 5, [Buffer.from('first\nlast words\n')]);
    await withSystem(async (system) => {
      const error = (await rejectionOf(
        runCommand(system, 'fail.exe', { encoding: 'buffer' }),
      )) as CommandExitError<Buffer>;
      expect(error).toBeInstanceOf(CommandExitError);
      expect(error).toMatchObject({ code: 'COMMAND_FAILED', exitCode: 5 });
      expect([...error.stdout]).toEqual([1, 2, 3]);
      expect(error.stderr.toString()).toBe('first\nlast words\n');
      expect(error.message).toContain('exited with code 5: fail.exe\nfirst\nlast words');
    });
  });

  it("rejects a timed-out command with a TimeoutError carrying Buffers with encoding: 'buffer'", async () => {
    host.hcs.fake.processScript = (p) => p.stdout?.write(Buffer.from([0xc3]));
    await withSystem(async (system) => {
      const error = await rejectionOf(
        runCommand(system, 'ping -t localhost', { encoding: 'buffer', timeoutMs: 30 }),
      );
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ code: 'TIMEOUT', timedOut: true, stdout: Buffer.from([0xc3]) });
    });
  });

  it('refuses an unknown encoding before reaching HCS', async () => {
    await withSystem(async (system) => {
      const before = host.hcs.fake.nativeCalls().length;
      const options = { encoding: 'latin1' } as unknown as { encoding: 'utf8' };
      const error = await rejectionOf(runCommand(system, 'ver', options));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ field: 'encoding' });
      expect(host.hcs.fake.nativeCalls()).toHaveLength(before);
    });
  });
});

/** A Writable that keeps what it is given. */
function sink(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

describe("a spawned command's Readables", () => {
  it('stream Buffers through pipeline(), and wait() still has the whole output', async () => {
    await withSystem(async (system) => {
      const handle = await spawnCommand(system, 'dump.exe');
      const out = sink();
      const piped = pipeline(handle.stdout as NonNullable<typeof handle.stdout>, out.stream);
      const guest = lastProcess();
      for (const chunk of BINARY_CHUNKS) guest.stdout?.write(chunk);
      host.hcs.fake.exitProcess(guest.pid, 0);
      await piped;
      expect(out.bytes().equals(BINARY)).toBe(true);
      const result = await handle.wait();
      expect(result.stdout).toBe(BINARY.toString('utf8'));
    });
  });

  it("stream with encoding: 'buffer' too, and wait() gives the same bytes", async () => {
    await withSystem(async (system) => {
      const handle = await spawnCommand(system, 'dump.exe', { encoding: 'buffer' });
      const chunks: Buffer[] = [];
      const read = (async () => {
        for await (const chunk of handle.stdout as AsyncIterable<Buffer>) chunks.push(chunk);
      })();
      const guest = lastProcess();
      for (const chunk of SPLIT_CHUNKS) guest.stdout?.write(chunk);
      host.hcs.fake.exitProcess(guest.pid, 0);
      await read;
      expect(Buffer.concat(chunks).equals(TEXT_BYTES)).toBe(true);
      expect((await handle.wait()).stdout.equals(TEXT_BYTES)).toBe(true);
    });
  });

  it("hold the command's output while the caller's reader applies backpressure", async () => {
    await withSystem(async (system) => {
      const handle = await spawnCommand(system, 'dump.exe', { encoding: 'buffer' });
      const stdout = handle.stdout as NonNullable<typeof handle.stdout>;
      stdout.pause();
      const guest = lastProcess();
      guest.stdout?.write(Buffer.from('held'));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(stdout.readableLength).toBe(4); // not drained by the collector while paused
      stdout.resume();
      host.hcs.fake.exitProcess(guest.pid, 0);
      expect((await handle.wait()).stdout.toString()).toBe('held');
    });
  });
});

describe('decoding cost', () => {
  /** 40 chunks of 64 KiB of '€' (3 bytes each), so chunk boundaries cut characters. */
  const EUROS = Buffer.from('€'.repeat((40 * 65536) / 3 + 1), 'utf8');
  const EURO_CHUNKS = Array.from({ length: Math.ceil(EUROS.length / 65536) }, (_, i) =>
    EUROS.subarray(i * 65536, (i + 1) * 65536),
  );

  it('decodes text nobody else reads in pieces of about 1 MiB, not chunk by chunk, with split characters whole', async () => {
    script(EURO_CHUNKS);
    const write = vi.spyOn(StringDecoder.prototype, 'write');
    try {
      await withSystem(async (system) => {
        const result = await runCommand(system, 'euros.exe');
        expect(result.stdout).toBe(EUROS.toString('utf8'));
        expect(result.stdout).not.toContain('\ufffd');
        // 2.5 MiB of stdout in 41 chunks: 3 pieces; chunk by chunk would be 41 calls.
        expect(write.mock.calls.length).toBeLessThanOrEqual(4);
        // Ready when wait() resolves: a plain property, as console.log shows it.
        expect(Object.getOwnPropertyDescriptor(result, 'stdout')).toHaveProperty('value');
      });
    } finally {
      write.mockRestore();
    }
  });

  it('does not decode text a caller streams unless the result is read, then decodes it whole', async () => {
    const write = vi.spyOn(StringDecoder.prototype, 'write');
    try {
      await withSystem(async (system) => {
        const handle = await spawnCommand(system, 'euros.exe');
        const out = sink();
        const piped = pipeline(handle.stdout as NonNullable<typeof handle.stdout>, out.stream);
        const guest = lastProcess();
        for (const chunk of EURO_CHUNKS) guest.stdout?.write(chunk);
        host.hcs.fake.exitProcess(guest.pid, 0);
        await piped;
        const result = await handle.wait();
        expect(out.bytes().equals(EUROS)).toBe(true);
        expect(write).not.toHaveBeenCalled();
        expect(result.stdout).toBe(EUROS.toString('utf8'));
        expect(result.stdout).toBe(result.stdout); // decoded once, then kept
        expect(write.mock.calls.length).toBeLessThanOrEqual(4);
        expect({ ...result }).toMatchObject({ exitCode: 0, stdout: EUROS.toString('utf8'), stderr: '' });
      });
    } finally {
      write.mockRestore();
    }
  });
});

describe('result types', () => {
  it('are strings by default and Buffers with encoding: buffer', () => {
    type Run<O extends object> = ReturnType<
      typeof runCommand<O extends { encoding: 'buffer' } ? 'buffer' : 'utf8'>
    >;
    expectTypeOf<Awaited<Run<object>>>().toEqualTypeOf<CommandResult<string>>();
    expectTypeOf<Awaited<Run<{ encoding: 'buffer' }>>>().toEqualTypeOf<CommandResult<Buffer>>();
    expectTypeOf<Awaited<ReturnType<typeof spawnCommand<'buffer'>>>>().toEqualTypeOf<CommandHandle<Buffer>>();
    // Inference from the options object, as callers write it.
    const inferred = (system: ComputeSystem) => ({
      text: runCommand(system, 'ver'),
      bytes: runCommand(system, 'ver', { encoding: 'buffer', onStdout: (c) => c.readUInt8(0) }),
      spawned: spawnCommand(system, 'ver', { encoding: 'buffer' }),
    });
    type Inferred = ReturnType<typeof inferred>;
    expectTypeOf<Awaited<Inferred['text']>['stdout']>().toEqualTypeOf<string>();
    expectTypeOf<Awaited<Inferred['bytes']>['stdout']>().toEqualTypeOf<Buffer>();
    expectTypeOf<
      Awaited<ReturnType<Awaited<Inferred['spawned']>['wait']>>['stderr']
    >().toEqualTypeOf<Buffer>();
  });
});
