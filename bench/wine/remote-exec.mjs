// Remote exec round trip (issue 17): the same short command (`cmd /c echo x`)
// in the same process-isolated sandbox on the simulated host, run N times
// through the local SDK (`commands.run`, the baseline) and through the API
// server over loopback: `POST .../commands` with fetch, and the stream route
// over a WebSocket (start -> started -> output -> exit). Server and client
// share this node.exe, as a client on the same machine would share its CPUs.
// argv: iterations. Times in ms per command; the added cost is remote - local.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { main, product } from '../../test/wine/scripts/lib.mjs';
import { seedImage } from '../../test/wine/scripts/sandbox-lib.mjs';

const { localBackend, startApiServer } = await import('../../dist/remote/server/index.js');
const { Sandbox } = product;
const iterations = Number(process.argv[2] ?? 50);
const COMMAND = 'cmd /c echo x';

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    n: samples.length,
    mean: samples.reduce((s, x) => s + x, 0) / samples.length,
    p50: at(0.5),
    p99: at(0.99),
  };
}

/** fetch, its bare "fetch failed" given the cause's code and message. */
async function call(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    throw new Error(
      `${init.method} ${url}: ${error.cause?.code ?? ''} ${error.cause?.message ?? error.message}`,
    );
  }
}

async function timed(n, fn) {
  await fn(); // warm-up, not counted
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return stats(samples);
}

await main(async () => {
  const home = process.env.HCS_SANDBOX_HOME;
  const image = await seedImage(home);
  const local = await Sandbox.create({ image, name: 'bench-local', network: 'none' });
  let localStats;
  try {
    localStats = await timed(iterations, async () => {
      const r = await local.commands.run(COMMAND);
      if (r.stdout !== 'x\r\n') throw new Error(`unexpected output ${JSON.stringify(r.stdout)}`);
    });
  } finally {
    await local.remove();
  }

  const token = randomBytes(32).toString('base64url');
  const api = await startApiServer({
    backend: localBackend(),
    tokens: { tokens: [{ name: 'bench', sha256: createHash('sha256').update(token).digest('hex') }] },
    root: home,
    version: 'bench',
    host: '127.0.0.1',
    port: 0,
    log: () => {},
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  try {
    const created = await call(`${api.url}/v1/sandboxes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ image, name: 'bench-remote', network: 'none' }),
    });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
    const runStats = await timed(iterations, async () => {
      const res = await call(`${api.url}/v1/sandboxes/bench-remote/commands`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ command: COMMAND }),
      });
      const body = await res.json();
      if (body.stdout !== 'x\r\n') throw new Error(`unexpected answer ${JSON.stringify(body)}`);
    });
    const streamStats = await timed(iterations, async () => {
      const ws = new WebSocket(`${api.url.replace('http', 'ws')}/v1/sandboxes/bench-remote/commands/stream`, {
        headers: { authorization: headers.authorization },
      });
      let out = '';
      ws.on('message', (data, binary) => {
        if (binary) out += data.subarray(1).toString();
      });
      await once(ws, 'open');
      ws.send(JSON.stringify({ type: 'start', command: COMMAND }));
      await once(ws, 'close');
      if (out !== 'x\r\n') throw new Error(`unexpected stream output ${JSON.stringify(out)}`);
    });
    await call(`${api.url}/v1/sandboxes/bench-remote`, { method: 'DELETE', headers });
    return {
      iterations,
      command: COMMAND,
      local: localStats,
      remoteRun: runStats,
      remoteStream: streamStats,
    };
  } finally {
    await api.close();
  }
});
