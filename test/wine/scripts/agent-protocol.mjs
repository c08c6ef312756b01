// The guest agent end to end under Wine (issue 15): agent.exe runs with --console
// --listen pipe:<name> (started by test/wine/agent.test.ts); this script, in node.exe
// as the product will run, reaches it through hvsock-relay.exe --pipe with the
// product's client (dist/sandbox/agent), and through raw pipe connections for the
// malformed-frame and fuzz checks. Each check records what it saw; the test asserts.
// Args: <pipe name> <relay.exe> <agent-testkid.exe> <scratch dir> [bigMB] [fuzzRuns]
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const agent = await import(new URL('../../../dist/sandbox/agent/index.js', import.meta.url));
const { AgentClient, spawnRelay, encodeFrame, FrameDecoder, FrameType, PayloadWriter, AgentRequestError } =
  agent;
const [pipe, relay, kid, scratch, bigArg = '64', fuzzArg = '150'] = process.argv.slice(2);
const result = { checks: {} };
const record = (name, value) => {
  result.checks[name] = value;
};

const sha = (buf) => createHash('sha256').update(buf).digest('hex');
async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}
async function run(client, options) {
  const p = client.exec(options);
  p.stdin.end();
  const [stdout, stderr, exitCode] = await Promise.all([collect(p.stdout), collect(p.stderr), p.exitCode]);
  return { stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), exitCode };
}
const within = (ms, promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: over ${ms} ms`)), ms)),
  ]);
async function check(name, fn) {
  try {
    record(name, await fn());
  } catch (error) {
    record(name, { failed: `${error?.name}: ${error?.message}` });
  }
}

/** A raw connection to the agent's pipe: frames in, frames out, nothing of the client's logic. */
function raw() {
  const socket = connect(`\\\\.\\pipe\\${pipe}`);
  const decoder = new FrameDecoder();
  const frames = [];
  let closed = false;
  let waiter;
  socket.on('data', (d) => {
    try {
      frames.push(...decoder.push(d));
    } catch (error) {
      frames.push({ decodeError: String(error) });
    }
    waiter?.();
  });
  socket.on('close', () => {
    closed = true;
    waiter?.();
  });
  socket.on('error', () => {});
  return {
    socket,
    frames,
    get closed() {
      return closed;
    },
    async until(pred, ms = 5000) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end)
          throw new Error(`raw: timed out; frames ${JSON.stringify(frames.map((f) => f.type))}`);
        await new Promise((r) => {
          waiter = r;
          setTimeout(r, 100);
        });
      }
    },
  };
}
const hello = () => encodeFrame(FrameType.hello, 0, new PayloadWriter().u16(1).u16(1).str('raw').build());
const errorCode = (f) => f.payload.readUInt32LE(0);

const client = await AgentClient.connect(spawnRelay(relay, { pipe }, 10_000), { clientName: 'wine-test' });
record('hello', client.info);

await check('echo', () => run(client, { command: { commandLine: 'cmd /c echo hello' } }));
await check('stderr', () => run(client, { command: [kid, 'stderr', 'to-err'] }));
await check('exitCodes', async () => ({
  kidMinus5: (await run(client, { command: [kid, 'exit', '-5'] })).exitCode,
  kidAccessViolation: (await run(client, { command: [kid, 'exit', '3221225477'] })).exitCode,
  kidMax: (await run(client, { command: [kid, 'exit', '4294967295'] })).exitCode,
  cmdMinus5: (await run(client, { command: { commandLine: 'cmd /c exit -5' } })).exitCode,
}));
await check('envAndCwd', () =>
  run(client, {
    command: { commandLine: 'cmd /c echo %AGENT_TEST%& cd' },
    env: { AGENT_TEST: 'v 1' },
    cwd: scratch,
  }),
);

await check('binary', async () => {
  const size = Number(bigArg) * 1024 * 1024;
  const block = randomBytes(1024 * 1024);
  const hashIn = createHash('sha256');
  const p = client.exec({ command: [kid, 'cat'] });
  const started = Date.now();
  const out = createHash('sha256');
  let received = 0;
  const reading = (async () => {
    for await (const c of p.stdout) {
      out.update(c);
      received += c.length;
    }
  })();
  for (let sent = 0; sent < size; sent += block.length) {
    block.writeUInt32LE(sent, 0); // every MB differs
    hashIn.update(block);
    if (!p.stdin.write(Buffer.from(block))) await new Promise((r) => p.stdin.once('drain', r));
  }
  p.stdin.end();
  await reading;
  const exitCode = await p.exitCode;
  const seconds = (Date.now() - started) / 1000;
  return { size, received, exitCode, same: hashIn.digest('hex') === out.digest('hex'), seconds };
});

await check('concurrent', async () => {
  const runs = await Promise.all(
    Array.from({ length: 20 }, (_, i) => run(client, { command: { commandLine: `cmd /c echo run-${i}` } })),
  );
  return runs.map((r, i) => r.exitCode === 0 && r.stdout.trim() === `run-${i}`);
});

await check('killTree', async () => {
  const p = client.exec({ command: [kid, 'tree', '2'] });
  let text = '';
  p.stdout.on('data', (d) => {
    text += d.toString();
  });
  await within(
    15_000,
    (async () => {
      while ((text.match(/pid \d+/g) ?? []).length < 3) await new Promise((r) => setTimeout(r, 100));
    })(),
    'three processes',
  );
  const pids = text.match(/\d+/g).map(Number);
  p.kill(7);
  const exitCode = await within(15_000, p.exitCode, 'exit after kill');
  const alive = [];
  for (const pid of pids)
    alive.push((await run(client, { command: [kid, 'alive', String(pid)] })).exitCode === 0);
  return { pids, exitCode, alive };
});

await check('pty', async () => {
  if (!client.info.pty) return { skipped: 'no CreatePseudoConsole' };
  const p = client.exec({ command: { commandLine: 'cmd.exe' }, pty: { cols: 80, rows: 25 } });
  let text = '';
  p.stdout.on('data', (d) => {
    text += d.toString('utf8');
  });
  let exited;
  p.exitCode.then((code) => {
    exited = { code };
  });
  try {
    await within(
      15_000,
      (async () => {
        while (!/>/.test(text) && !exited) await new Promise((r) => setTimeout(r, 100));
        if (!/>/.test(text)) throw new Error('cmd exited without a prompt');
      })(),
      'a prompt',
    );
  } catch (error) {
    // No prompt (Wine 8's pseudo console): cmd exits, and the agent must end the console's
    // output by itself (closing it, or after its grace period), with no KILL.
    if (exited)
      return { prompt: false, endedWithoutKill: true, exitCode: exited.code, text: text.slice(0, 400) };
    p.kill(1);
    // The kill must still end the stream: the agent closes the pseudo console after exit.
    const exitCode = await within(15_000, p.exitCode, 'pty exit after kill');
    return {
      prompt: false,
      endedWithoutKill: false,
      exitCode,
      text: text.slice(0, 400),
      error: String(error),
    };
  }
  p.resize(100, 30);
  p.stdin.write('exit 3\r\n');
  const exitCode = await within(15_000, p.exitCode, 'pty exit').catch((e) => String(e));
  return { prompt: true, exitCode, text: text.slice(0, 200) };
});

await check('files', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const path = `${scratch}\\sub\\dir\\a.bin`;
  const modified = new Date('2024-05-06T07:08:09.000Z');
  const written = await client.putFile(path, data, { attributes: 0x21, modified, mkdirs: true });
  const info = await client.stat(path);
  const back = await client.readFile(path);
  const listed = await client.list(`${scratch}\\sub\\dir`);
  await client.putFile(`${scratch}\\sub\\made-dir`, new Uint8Array(), { attributes: 0x10 });
  const dirInfo = await client.stat(`${scratch}\\sub\\made-dir`);
  const getDir = await client.readFile(`${scratch}\\sub`).then(
    () => 'read',
    (e) => e.win32,
  );
  const relative = await client.stat('relative\\path').then(
    () => 'ok',
    (e) => e.agentCode,
  );
  await client.remove(`${scratch}\\sub`, { recursive: true });
  const gone = await client.stat(path).then(
    () => 'still there',
    (e) => (e instanceof AgentRequestError ? e.win32 : String(e)),
  );
  return {
    written,
    size: info.size,
    attributes: info.attributes,
    modified: info.modified?.toISOString(),
    same: sha(back.data) === sha(data),
    getAttributes: back.info.attributes,
    listed: listed.map((e) => [e.name, e.size]),
    dirIsDirectory: dirInfo.isDirectory,
    getDir,
    relative,
    gone,
  };
});

await check('malformed', async () => {
  const c = raw();
  c.socket.write(hello());
  await c.until(() => c.frames.some((f) => f.type === FrameType.ready));
  const sent = [
    encodeFrame(0x7f, 0), // unknown type
    encodeFrame(FrameType.exec, 5, Buffer.from([1, 2, 3])), // truncated payload
    encodeFrame(FrameType.exec, 0, Buffer.alloc(0)), // stream 0
    encodeFrame(FrameType.stdin, 99, Buffer.from('nobody')), // unknown stream: dropped
    encodeFrame(FrameType.fileGet, 6, new PayloadWriter().str('no\\root').build()), // relative path
    encodeFrame(FrameType.hello, 0, Buffer.from([1])), // malformed hello
    encodeFrame(FrameType.stat, 7, Buffer.from([255, 255, 255, 255])), // string length past the end
    encodeFrame(FrameType.stat, 8, Buffer.from([2, 0, 0, 0, 0xc3, 0x28])), // invalid UTF-8
  ];
  for (const f of sent) c.socket.write(f);
  c.socket.write(encodeFrame(FrameType.ping, 9, Buffer.from('still here')));
  await c.until(() => c.frames.some((f) => f.type === FrameType.pong));
  const errors = c.frames.filter((f) => f.type === FrameType.error).map((f) => [f.stream, errorCode(f)]);
  // A length above the maximum: an error frame, then the agent closes this connection.
  const huge = Buffer.alloc(9);
  huge.writeUInt32LE(0x7fffffff, 0);
  huge.writeUInt8(FrameType.stdin, 4);
  c.socket.write(huge);
  await c.until(() => c.closed);
  const last = c.frames.at(-1);
  await client.ping();
  return {
    errors,
    tooLarge: last?.type === FrameType.error ? errorCode(last) : null,
    closed: c.closed,
    stillServing: true,
  };
});

await check('fuzz', async () => {
  // Deterministic (xorshift32, fixed seed): random frames with random lengths, types and
  // payloads, truncated at random, each on its own connection; the agent must survive all.
  let s = 0x9e3779b9;
  const rnd = (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const runs = Number(fuzzArg);
  const started = Date.now();
  let errorsSeen = 0;
  for (let i = 0; i < runs; i++) {
    const c = raw();
    const parts = [];
    if (rnd(2)) parts.push(hello());
    for (let k = rnd(6); k >= 0; k--) {
      const len = [0, 1, 4, 9, rnd(64), rnd(4096), 0xffffffff, 1024 * 1024, 1024 * 1024 + 1][rnd(9)];
      const type = rnd(3)
        ? [0x01, 0x04, 0x10, 0x12, 0x13, 0x16, 0x18, 0x19, 0x20, 0x21, 0x23, 0x24, 0x25, 0x26, 0x28][rnd(15)]
        : rnd(256);
      const header = Buffer.alloc(9);
      header.writeUInt32LE(len >>> 0, 0);
      // SHUTDOWN is a valid request that (in --console mode) rightly stops the agent: never sent.
      header.writeUInt8(type === FrameType.shutdown ? 0x31 : type, 4);
      header.writeUInt32LE(rnd(4), 5);
      const body = randomBytes(Math.min(len, rnd(2) ? len : rnd(64), 8192));
      parts.push(header, body);
    }
    let bytes = Buffer.concat(parts);
    if (rnd(2)) bytes = bytes.subarray(0, rnd(bytes.length + 1)); // truncated somewhere
    // A short length makes the following bytes parse as headers, so a SHUTDOWN (0x30) could form
    // anywhere; it is a valid request that rightly stops a --console agent, so no byte is 0x30.
    bytes = bytes.map((b) => (b === FrameType.shutdown ? 0x31 : b));
    c.socket.write(bytes);
    await new Promise((r) => setTimeout(r, rnd(3) ? 0 : 20));
    errorsSeen += c.frames.filter((f) => f.type === FrameType.error).length;
    c.socket.destroy();
  }
  await client.ping();
  const after = await run(client, { command: { commandLine: 'cmd /c echo alive' } });
  return { runs, errorsSeen, seconds: (Date.now() - started) / 1000, after: after.stdout.trim() };
});

await check('shutdown', async () => {
  await client.shutdown();
  return { done: true };
});
client.close();
writeFileSync(process.env.HCS_TEST_RESULT_FILE, JSON.stringify(result));
process.exit(0);
