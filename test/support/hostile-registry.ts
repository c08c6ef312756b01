/**
 * A registry on loopback (node:http, 127.0.0.1, a free port) that serves one
 * small valid Windows image, and misbehaves in one way per scenario. The
 * scenario is the repository's first path segment: `<host>/<scenario>/x:1`.
 * `sent` counts the body bytes each scenario wrote, so a test can check the
 * client stopped reading early.
 */

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip } from 'node:zlib';
import { type BuiltImage, type BuiltLayer, buildImage, sha256, windowsLayer } from './registry/push.js';

export const HOSTILE_SCENARIOS = [
  /** The image as it should be (the harness can succeed). */
  'valid',
  /** A manifest body that never ends. */
  'endless-manifest',
  /** A manifest declaring (Content-Length) more than any manifest cap. */
  'oversized-manifest',
  /** An error status with a body that never ends. */
  'endless-error',
  /** A config body that never ends. */
  'endless-config',
  /** A token service answer that never ends. */
  'token-endless',
  /** Accepts the connection, never answers. */
  'silent',
  /** Sends the status line, then a header line every 100 ms, forever. */
  'slow-headers',
  /** A manifest body that stops after 10 bytes. */
  'stalled-manifest',
  /** A manifest body trickled a byte every 100 ms (never idle long enough to time out). */
  'slow-manifest',
  /** A layer body that stops after 10 bytes. */
  'stalled-blob',
  /** A layer body trickled a byte every 100 ms. */
  'slow-blob',
  /** A layer body that goes on past its descriptor's size, endlessly. */
  'endless-blob',
  /** The connection dropped 10 bytes into the manifest. */
  'dropped-manifest',
  /** The connection dropped 10 bytes into the layer. */
  'dropped-blob',
  /** Every request redirected to itself. */
  'redirect-loop',
  /** A layer of the right size whose bytes do not hash to its digest. */
  'wrong-digest',
  /** A valid gzip layer (digest and size right) whose tar inflates to `bombBytes`. */
  'gzip-bomb',
] as const;
export type HostileScenario = (typeof HOSTILE_SCENARIOS)[number];

export interface HostileRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  /** Body bytes written per scenario. */
  sent: Map<string, number>;
  /** The valid image and the bomb image the server offers. */
  image: BuiltImage;
  bomb: BuiltImage;
  close(): Promise<void>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export interface HostileRegistryOptions {
  /** Where an "endless" body stops, so that a client without caps cannot exhaust memory (default 32 MiB). */
  endlessBytes?: number;
  /** What the gzip bomb inflates to (default 256 MiB of zeros in one file; its gzip is about 256 KiB). */
  bombBytes?: number;
}

export async function startHostileRegistry(options: HostileRegistryOptions = {}): Promise<HostileRegistry> {
  const endlessBytes = options.endlessBytes ?? 32 * MiB;
  const layer = await windowsLayer('hostile');
  const image = buildImage([layer], '10.0.20348.1');
  const bombLayer = await gzipBomb(options.bombBytes ?? 256 * MiB);
  const bomb = buildImage([bombLayer], '10.0.20348.1');
  const sent = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const count = (scenario: string, n: number) => sent.set(scenario, (sent.get(scenario) ?? 0) + n);

  /** Writes up to `endlessBytes`, minding back-pressure, until the client goes away. */
  const endless = (scenario: string, res: ServerResponse) => {
    const chunk = Buffer.alloc(64 * KiB, 0x20);
    const pump = () => {
      while (!res.destroyed && (sent.get(scenario) ?? 0) < endlessBytes) {
        count(scenario, chunk.length);
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  };
  /** Calls `tick` every `ms` until it answers false or the socket closes. */
  const every = (res: ServerResponse, ms: number, tick: () => boolean) => {
    const timer = setInterval(() => {
      if (res.socket?.destroyed || !tick()) {
        clearInterval(timer);
        timers.delete(timer);
      }
    }, ms);
    timers.add(timer);
  };
  const trickle = (scenario: string, res: ServerResponse, length: number) => {
    res.writeHead(200, { 'content-length': String(length) });
    every(res, 100, () => {
      count(scenario, 1);
      return res.write(' ') || true;
    });
  };
  const partial = (scenario: string, res: ServerResponse, length: number, how: 'stall' | 'drop') => {
    res.writeHead(200, { 'content-length': String(length) });
    res.write(Buffer.alloc(10, 0x20));
    count(scenario, 10);
    if (how === 'drop') setTimeout(() => res.socket?.destroy(), 50);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (url.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      endless('token-endless', res);
      return;
    }
    const scenario = /^\/v2\/([\w-]+)\//.exec(url)?.[1] ?? '';
    const served = scenario === 'gzip-bomb' ? bomb : image;
    const isManifest = url.includes('/manifests/');
    const isConfig = url.endsWith(served.configDigest);
    const blob = served.layers[0]!;
    switch (scenario) {
      case 'endless-manifest':
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        return endless(scenario, res);
      case 'oversized-manifest':
        res.writeHead(200, { 'content-length': String(1024 * MiB) });
        res.write(Buffer.alloc(64 * KiB, 0x20));
        count(scenario, 64 * KiB);
        return;
      case 'endless-error':
        res.writeHead(404, { 'content-type': 'application/json' });
        return endless(scenario, res);
      case 'silent':
        return;
      case 'slow-headers': {
        const socket = res.socket!;
        socket.write('HTTP/1.1 200 OK\r\n');
        every(res, 100, () => socket.write('x-slow: a\r\n') || true);
        return;
      }
      case 'stalled-manifest':
        return partial(scenario, res, 1000, 'stall');
      case 'slow-manifest':
        return trickle(scenario, res, 64 * KiB);
      case 'dropped-manifest':
        return partial(scenario, res, 1000, 'drop');
      case 'redirect-loop':
        res.writeHead(302, { location: url });
        res.end();
        return;
      case 'token-endless':
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test"` });
        res.end();
        return;
    }
    if (isManifest) {
      res.end(served.manifest);
      return;
    }
    if (scenario === 'endless-config' && isConfig) {
      res.writeHead(200);
      return endless(scenario, res);
    }
    if (isConfig) {
      res.end(served.config);
      return;
    }
    // The layer blob.
    switch (scenario) {
      case 'stalled-blob':
        return partial(scenario, res, blob.size, 'stall');
      case 'dropped-blob':
        return partial(scenario, res, blob.size, 'drop');
      case 'slow-blob':
        return trickle(scenario, res, blob.size);
      case 'endless-blob':
        res.writeHead(200);
        res.write(blob.blob);
        count(scenario, blob.size);
        return endless(scenario, res);
      case 'wrong-digest': {
        const wrong = Buffer.from(blob.blob);
        wrong[wrong.length >> 1] = (wrong[wrong.length >> 1] ?? 0) ^ 0xff;
        res.end(wrong);
        return;
      }
      default:
        count(scenario, blob.size);
        res.end(blob.blob);
    }
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    sent,
    image,
    bomb,
    close: async () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A ustar header for a regular file of `size` bytes (only the fields a reader needs). */
function fileHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('14000000000\0', 136, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/**
 * A gzip Windows layer of one `Files/zeros.bin` of `bytes` zeros, deflated as it
 * is generated (never held inflated in memory): about a thousandth of its size.
 */
async function gzipBomb(bytes: number): Promise<BuiltLayer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const tarHash = createHash('sha256');
  const write = async (chunk: Buffer) => {
    tarHash.update(chunk);
    if (!gzip.write(chunk)) await new Promise((resolve) => gzip.once('drain', resolve));
  };
  await write(fileHeader('Files/zeros.bin', bytes));
  const zeros = Buffer.alloc(MiB);
  for (let left = bytes; left > 0; left -= zeros.length)
    await write(zeros.subarray(0, Math.min(left, zeros.length)));
  await write(Buffer.alloc(((512 - (bytes % 512)) % 512) + 1024));
  gzip.end();
  await done;
  const blob = Buffer.concat(out);
  return {
    tar: Buffer.alloc(0),
    diffId: `sha256:${tarHash.digest('hex')}`,
    blob,
    digest: sha256(blob),
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    size: blob.length,
  };
}
