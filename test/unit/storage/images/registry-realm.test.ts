/**
 * Basic credentials and a token realm on another host: a registry's
 * `WWW-Authenticate` header may name any URL, so the user's password goes only
 * to the registry's own host (port included) or its known token service, unless
 * the caller opts in with `allowCrossHostRealm`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isTrustedRealmHost, RegistryClient } from '../../../../src/storage/images/registry-client.js';
import { RegistryError } from '../../../../src/storage/images/registry-errors.js';

const CREDENTIALS = { username: 'alice', password: 's3cret' };
const BASIC = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
});

/** The realm's behaviour: grant a token to anyone, or only to the right credentials. */
let tokenPolicy: 'anonymous' | 'credentials' = 'credentials';
/** The `authorization` header of every request the token host received. */
const tokenAuthorizations: (string | undefined)[] = [];

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const hostOf = (s: Server) => `127.0.0.1:${(s.address() as AddressInfo).port}`;

let registry: Server;
let realm: Server;

beforeAll(async () => {
  realm = await listen((req, res) => {
    tokenAuthorizations.push(req.headers.authorization);
    if (tokenPolicy === 'credentials' && req.headers.authorization !== BASIC) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"tok"}');
  });
  registry = await listen((req, res) => {
    if (req.headers.authorization !== 'Bearer tok') {
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://${hostOf(realm)}/token",service="svc"`,
        })
        .end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(MANIFEST);
  });
});
afterAll(async () => {
  await new Promise((r) => registry.close(r));
  await new Promise((r) => realm.close(r));
});
beforeEach(() => {
  tokenAuthorizations.length = 0;
});

describe('a token realm on another host', () => {
  it('withholds credentials and says how to opt in when the anonymous token is refused', async () => {
    tokenPolicy = 'credentials';
    const client = new RegistryClient({ registry: hostOf(registry), credentials: CREDENTIALS });
    const err = await client.getManifest('app', 'latest').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).message).toMatch(/credentials were withheld/);
    expect((err as RegistryError).message).toMatch(/allowCrossHostRealm/);
    expect(tokenAuthorizations.length).toBeGreaterThan(0);
    expect(tokenAuthorizations.every((a) => a === undefined)).toBe(true);
  });

  it('asks for the token anonymously and goes on when that is granted', async () => {
    tokenPolicy = 'anonymous';
    const client = new RegistryClient({ registry: hostOf(registry), credentials: CREDENTIALS });
    const m = await client.getManifest('app', 'latest');
    expect(m.bytes.toString()).toBe(MANIFEST);
    expect(tokenAuthorizations.every((a) => a === undefined)).toBe(true);
  });

  it('sends the credentials when the caller opted in', async () => {
    tokenPolicy = 'credentials';
    const client = new RegistryClient({
      registry: hostOf(registry),
      credentials: CREDENTIALS,
      allowCrossHostRealm: true,
    });
    const m = await client.getManifest('app', 'latest');
    expect(m.bytes.toString()).toBe(MANIFEST);
    expect(tokenAuthorizations).toContain(BASIC);
  });
});

describe('isTrustedRealmHost', () => {
  it('trusts the same host and port, and Docker Hub’s token service', () => {
    expect(isTrustedRealmHost('127.0.0.1:5000', '127.0.0.1:5000')).toBe(true);
    expect(isTrustedRealmHost('Registry.Example', 'registry.example')).toBe(true);
    expect(isTrustedRealmHost('registry-1.docker.io', 'auth.docker.io')).toBe(true);
    expect(isTrustedRealmHost('docker.io', 'auth.docker.io')).toBe(true);
  });
  it('distrusts another port or another host', () => {
    expect(isTrustedRealmHost('127.0.0.1:5000', '127.0.0.1:5001')).toBe(false);
    expect(isTrustedRealmHost('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(isTrustedRealmHost('registry.example', 'auth.docker.io')).toBe(false);
    expect(isTrustedRealmHost('evil.example', 'auth.docker.io')).toBe(false);
  });
});
