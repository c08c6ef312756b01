import { describe, expect, it } from 'vitest';
import {
  isLoopbackHost,
  parseWwwAuthenticate,
  RegistryClient,
} from '../../../../src/storage/images/registry-client.js';
import { PlatformMismatchError, RegistryError } from '../../../../src/storage/images/registry-errors.js';
import {
  checkConfigPlatform,
  type Descriptor,
  parseBuild,
  selectWindowsManifest,
} from '../../../../src/storage/images/registry-platform.js';

const D = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

function entry(n: number, platform: Descriptor['platform']): Descriptor {
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: D(n),
    size: 100,
    ...(platform ? { platform } : {}),
  };
}

describe('platform selection', () => {
  const index = [
    entry(1, { os: 'linux', architecture: 'amd64' }),
    entry(2, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5329' }),
    entry(3, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2227' }),
    entry(4, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.2340' }),
    entry(5, { os: 'windows', architecture: 'arm64', 'os.version': '10.0.26100.1' }),
  ];

  it('picks the exact build (newest revision of it)', () => {
    expect(selectWindowsManifest(index, { hostBuild: 20348 }).digest).toBe(D(4));
    expect(selectWindowsManifest(index, { hostBuild: 17763 }).digest).toBe(D(2));
  });

  it('without an exact build: a typed error listing the offer, or the newest older build when allowed', () => {
    const err = (() => {
      try {
        selectWindowsManifest(index, { hostBuild: 26100 });
      } catch (e) {
        return e;
      }
    })() as PlatformMismatchError;
    expect(err).toBeInstanceOf(PlatformMismatchError);
    expect(err.offered).toHaveLength(5);
    expect(err.message).toContain('windows/arm64 10.0.26100.1');
    expect(err.message).toContain('linux/amd64');
    expect(selectWindowsManifest(index, { hostBuild: 26100, allowOlderBuild: true }).digest).toBe(D(4));
    expect(selectWindowsManifest(index, { hostBuild: 19041, allowOlderBuild: true }).digest).toBe(D(2));
    expect(() => selectWindowsManifest(index, { hostBuild: 17134, allowOlderBuild: true })).toThrow(
      PlatformMismatchError,
    );
  });

  it('rejects a bad host build', () => {
    expect(() => selectWindowsManifest(index, { hostBuild: 0 })).toThrow(/hostBuild/);
  });

  it('checks a single config', () => {
    const cfg = { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' };
    expect(() => checkConfigPlatform(cfg, D(1), { hostBuild: 17763 })).not.toThrow();
    expect(() => checkConfigPlatform(cfg, D(1), { hostBuild: 20348 })).toThrow(PlatformMismatchError);
    expect(() => checkConfigPlatform(cfg, D(1), { hostBuild: 20348, allowOlderBuild: true })).not.toThrow();
    expect(() =>
      checkConfigPlatform({ os: 'linux', architecture: 'amd64' }, D(1), { hostBuild: 20348 }),
    ).toThrow(PlatformMismatchError);
    expect(parseBuild('10.0.20348.2227')).toBe(20348);
    expect(parseBuild('garbage')).toBeUndefined();
  });
});

describe('registry client', () => {
  it('parses WWW-Authenticate challenges', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/x:pull',
      },
    });
    expect(parseWwwAuthenticate('Basic realm=registry')).toEqual({
      scheme: 'basic',
      params: { realm: 'registry' },
    });
  });

  it('uses HTTP only for loopback registries unless plainHttp', () => {
    expect(isLoopbackHost('localhost:5000')).toBe(true);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]:5000')).toBe(true);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
    expect(new RegistryClient({ registry: '127.0.0.1:5000' }).baseUrl).toBe('http://127.0.0.1:5000');
    expect(new RegistryClient({ registry: 'mcr.microsoft.com' }).baseUrl).toBe('https://mcr.microsoft.com');
    expect(new RegistryClient({ registry: 'docker.io' }).baseUrl).toBe('https://registry-1.docker.io');
    expect(new RegistryClient({ registry: 'reg.lan:5000', plainHttp: true }).baseUrl).toBe(
      'http://reg.lan:5000',
    );
    expect(() => new RegistryClient({ registry: 'bad host/x' })).toThrow(/registry/);
  });

  it('refuses a token service over plain HTTP for a remote registry', async () => {
    const seen: string[] = [];
    const fakeFetch = (async (url: string | URL) => {
      seen.push(String(url));
      return new Response('{}', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="http://evil.example/token",service="x"' },
      });
    }) as typeof fetch;
    const client = new RegistryClient({ registry: 'reg.example.com', fetch: fakeFetch });
    const err = await client.getManifest('a/b', 'latest').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(/refusing token service over http/);
    expect(seen).toEqual(['https://reg.example.com/v2/a/b/manifests/latest']);
  });

  it('answers a Basic challenge with credentials and sends the Accept list', async () => {
    const auth: (string | null)[] = [];
    let accept = '';
    const fakeFetch = (async (_url: string | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      auth.push(headers.get('authorization'));
      accept = headers.get('accept') ?? '';
      if (!headers.get('authorization')) {
        return new Response('', { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } });
      }
      return new Response(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [],
        }),
        {
          status: 200,
        },
      );
    }) as typeof fetch;
    const client = new RegistryClient({
      registry: 'reg.example.com',
      fetch: fakeFetch,
      credentials: { username: 'u', password: 'p' },
    });
    const m = await client.getManifest('a/b', 'latest');
    expect(m.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(auth).toEqual([null, `Basic ${Buffer.from('u:p').toString('base64')}`]);
    expect(accept.split(', ')).toEqual([
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]);
  });

  it('verifies a manifest fetched by digest', async () => {
    const fakeFetch = (async () =>
      new Response('{"schemaVersion":2}', { status: 200 })) as unknown as typeof fetch;
    const client = new RegistryClient({ registry: 'reg.example.com', fetch: fakeFetch });
    await expect(client.getManifest('a/b', D(7))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
  });
});
