/**
 * A hostile registry on loopback: endless bodies, a server that never answers,
 * stalled and dropped bodies, a refused port, a redirect loop. Each pull ends in
 * a `RegistryError` naming the host within its (shortened) timeout, reads a
 * bounded number of bytes and leaves no blob in the cache.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OwnImageSource } from '../../../../src/storage/images/own-store.js';
import { pullImage } from '../../../../src/storage/images/pull.js';
import { RegistryError } from '../../../../src/storage/images/registry-errors.js';
import type { RegistryLimits } from '../../../../src/storage/images/registry-limits.js';
import { fakeImporter } from '../../../support/registry/fake-import.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** "Endless" bodies stop here so that the unfixed client, which reads them whole, cannot exhaust memory. */
const ENDLESS = 32 * MiB;
const LIMITS: Partial<RegistryLimits> = {
  maxManifestBytes: 64 * KiB,
  maxConfigBytes: 64 * KiB,
  maxTokenBytes: 64 * KiB,
  maxErrorBodyBytes: 64 * KiB,
  headersTimeoutMs: 400,
  idleTimeoutMs: 400,
};
/** Every failure must come well within this (the defaults would take a minute). */
const BOUND_MS = 4000;

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layerBytes = Buffer.alloc(1000, 7);
const config = Buffer.from(
  JSON.stringify({
    os: 'windows',
    architecture: 'amd64',
    'os.version': '10.0.20348.1',
    rootfs: { type: 'layers', diff_ids: [sha256(layerBytes)] },
  }),
);
function manifestFor(configBytes: Buffer): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(configBytes),
        size: configBytes.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: sha256(layerBytes),
          size: layerBytes.length,
        },
      ],
    }),
  );
}
const manifest = manifestFor(config);

let server: Server;
let host: string;
/** Bytes each scenario's server wrote. */
const sent = new Map<string, number>();

/** Writes up to `limit` bytes, minding back-pressure, until the client goes away. */
function endless(scenario: string, res: ServerResponse, limit = ENDLESS): void {
  const chunk = Buffer.alloc(64 * KiB, 0x20);
  const pump = () => {
    while (!res.destroyed && (sent.get(scenario) ?? 0) < limit) {
      sent.set(scenario, (sent.get(scenario) ?? 0) + chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** A few bytes, then nothing (stall) or a dropped connection (drop). */
function partial(res: ServerResponse, length: number, how: 'stall' | 'drop'): void {
  res.writeHead(200, { 'content-length': String(length) });
  res.write(Buffer.alloc(10, 0x20));
  if (how === 'drop') setTimeout(() => res.socket?.destroy(), 50);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  const scenario = /^\/v2\/([\w-]+)\//.exec(url)?.[1] ?? 'token';
  const isManifest = url.includes('/manifests/');
  const isConfig = url.endsWith(sha256(config)) || url.endsWith(sha256(Buffer.from('{}')));
  if (url.startsWith('/token')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    endless('token-endless', res);
    return;
  }
  switch (scenario) {
    case 'endless-manifest':
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      endless(scenario, res);
      return;
    case 'endless-error':
      res.writeHead(404, { 'content-type': 'application/json' });
      endless(scenario, res);
      return;
    case 'silent':
      return; // accepts and never answers
    case 'slow-manifest':
      partial(res, 1000, 'stall');
      return;
    case 'dropped-manifest':
      partial(res, 1000, 'drop');
      return;
    case 'redirect-loop':
      res.writeHead(302, { location: url });
      res.end();
      return;
    case 'token-endless':
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test"` });
      res.end();
      return;
    default:
      break;
  }
  // The remaining scenarios misbehave on a blob only: the manifest and config are valid.
  if (scenario === 'endless-config') {
    const big = Buffer.from('{}');
    if (isManifest) {
      res.end(manifestFor(big));
      return;
    }
    res.writeHead(200);
    endless(scenario, res);
    return;
  }
  if (isManifest) {
    res.end(manifest);
    return;
  }
  if (isConfig) {
    res.end(config);
    return;
  }
  partial(res, layerBytes.length, scenario === 'dropped-blob' ? 'drop' : 'stall');
  return;
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let work: string;
let cacheDir: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'registry-hostile-'));
  cacheDir = join(work, 'blobs');
  return () => rm(work, { recursive: true, force: true });
});

/** Pulls `reference`, expecting a RegistryError within the bound; answers the error. */
async function pullFails(reference: string): Promise<RegistryError> {
  const started = Date.now();
  const err = await pullImage(reference, {
    store: new OwnImageSource({ root: join(work, 'store') }),
    importLayer: fakeImporter().importLayer,
    hostBuild: 20348,
    cacheDir,
    limits: LIMITS,
  }).catch((e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(BOUND_MS);
  expect(err).toBeInstanceOf(RegistryError);
  const hostName = reference.split('/')[0] as string;
  expect((err as RegistryError).message).toContain(hostName);
  return err as RegistryError;
}

/** The cache's files (a verified blob must never appear after a failure). */
async function cacheFiles(): Promise<string[]> {
  return readdir(join(cacheDir, 'sha256')).catch(() => []);
}

describe('pullImage against a hostile registry', () => {
  it('an endless manifest body is cut at maxManifestBytes', async () => {
    const err = await pullFails(`${host}/endless-manifest/x:1`);
    expect(err.message).toMatch(/more than 65536 bytes/);
    expect(sent.get('endless-manifest')).toBeLessThan(ENDLESS / 2);
    expect(await cacheFiles()).toEqual([]);
  });

  it('an endless error body is cut at maxErrorBodyBytes; the status is still reported', async () => {
    const err = await pullFails(`${host}/endless-error/x:1`);
    expect(err.status).toBe(404);
    expect(sent.get('endless-error')).toBeLessThan(ENDLESS / 2);
    expect(await cacheFiles()).toEqual([]);
  });

  it('an endless config body is cut at maxConfigBytes', async () => {
    const err = await pullFails(`${host}/endless-config/x:1`);
    expect(err.message).toMatch(/more than 65536 bytes/);
    expect(sent.get('endless-config')).toBeLessThan(ENDLESS / 2);
  });

  it('an endless token answer is cut at maxTokenBytes', async () => {
    const err = await pullFails(`${host}/token-endless/x:1`);
    expect(err.message).toMatch(/token.*more than 65536 bytes/);
    expect(sent.get('token-endless')).toBeLessThan(ENDLESS / 2);
  });

  it('a server that accepts and never answers times out on the headers', async () => {
    const err = await pullFails(`${host}/silent/x:1`);
    expect(err.message).toMatch(/sent no answer within 0.4 s/);
    expect(await cacheFiles()).toEqual([]);
  });

  it('a manifest body that stalls times out when idle', async () => {
    const err = await pullFails(`${host}/slow-manifest/x:1`);
    expect(err.message).toMatch(/sent nothing for 0.4 s/);
  });

  it('a layer download that stalls times out when idle; no verified blob is left', async () => {
    const err = await pullFails(`${host}/slow-blob/x:1`);
    expect(err.message).toMatch(/layer .* sent nothing for 0.4 s/);
    // Only the resumable partial download may stay (the next pull continues it).
    expect((await cacheFiles()).filter((f) => !f.endsWith('.partial'))).toEqual([]);
  });

  it('a connection dropped mid-manifest is a RegistryError with the cause kept', async () => {
    const err = await pullFails(`${host}/dropped-manifest/x:1`);
    expect(err.status).toBe(0);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('a connection dropped mid-layer is a RegistryError; no verified blob is left', async () => {
    const err = await pullFails(`${host}/dropped-blob/x:1`);
    expect(err.cause).toBeInstanceOf(Error);
    expect((await cacheFiles()).filter((f) => !f.endsWith('.partial'))).toEqual([]);
  });

  it('a refused connection is a RegistryError naming the host, with fetch’s error as cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await pullFails(`127.0.0.1:${port}/refused/x:1`);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(await cacheFiles()).toEqual([]);
  });

  it('a redirect loop is a RegistryError', async () => {
    const err = await pullFails(`${host}/redirect-loop/x:1`);
    expect(err.message).toMatch(/redirect/);
    expect(await cacheFiles()).toEqual([]);
  });
});
