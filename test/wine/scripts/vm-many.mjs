// Issue 15 at the driver: N VM sandboxes at once (each a simulated VM running the real
// agent.exe, reached through the real hvsock-relay.exe), one command in each at the same
// time, then BIG MB each way through one VM's agent: random bytes into agent-testkid's
// `cat` on stdin and back on stdout, SHA-256 compared. argv: count, bigMB, testkid.exe.
import { createHash, randomBytes } from 'node:crypto';
import { Sandbox } from 'hcs-sandbox';
import { main } from './lib.mjs';

await main(async () => {
  const [count, bigMB, testkid] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
  const names = Array.from({ length: count }, (_, i) => `many${i}`);
  const t0 = performance.now();
  const sandboxes = await Promise.all(
    names.map((name) => Sandbox.create({ image: 'win', isolation: 'vm', name, network: 'none' })),
  );
  const createdMs = Math.round(performance.now() - t0);
  try {
    const t1 = performance.now();
    const outputs = await Promise.all(
      sandboxes.map((sb, i) => sb.commands.run(['cmd', '/c', 'echo', `from-${names[i]}`])),
    );
    const execMs = Math.round(performance.now() - t1);
    const echoed = outputs.map((r) => r.stdout.trim());

    // BIG MB in and out of one VM at once, in 1 MiB pieces so neither side holds it all.
    const bytes = bigMB * 1024 * 1024;
    const sent = createHash('sha256');
    const received = createHash('sha256');
    let receivedBytes = 0;
    const t2 = performance.now();
    const handle = await sandboxes[0].commands.spawn([testkid, 'cat'], {
      encoding: 'buffer',
      openStdin: true,
      keepOutput: false,
    });
    handle.stdout.on('data', (chunk) => {
      received.update(chunk);
      receivedBytes += chunk.length;
    });
    for (let left = bytes; left > 0; ) {
      const piece = randomBytes(Math.min(left, 1024 * 1024));
      sent.update(piece);
      left -= piece.length;
      if (!handle.stdin.write(piece)) await new Promise((resolve) => handle.stdin.once('drain', resolve));
    }
    handle.stdin.end();
    const result = await handle.wait();
    const streamMs = Math.round(performance.now() - t2);
    return {
      echoed,
      big: {
        exitCode: result.exitCode,
        receivedBytes,
        same: sent.digest('hex') === received.digest('hex'),
      },
      timings: { createdMs, execMs, streamMs },
    };
  } finally {
    await Promise.all(sandboxes.map((sb) => sb.remove()));
  }
});
