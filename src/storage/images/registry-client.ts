/**
 * A small client of the OCI distribution (registry v2) API over Node's `fetch`:
 * manifests and blobs, anonymous Bearer tokens (`WWW-Authenticate: Bearer
 * realm=...,service=...,scope=...`) with optional basic credentials, and plain
 * HTTP only for loopback registries (or when `plainHttp` says so).
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import { DigestMismatchError, isDigest, sha256Of } from './digest.js';
import { ImageFormatError, RegistryError } from './registry-errors.js';
import { fetchWithTimeout, type RegistryLimits, readCapped, registryLimits } from './registry-limits.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(', ');

const DOCKER_HUB = 'docker.io';

/**
 * Token services known to belong to a registry on another host. Docker Hub serves
 * `registry-1.docker.io` but issues its tokens at `auth.docker.io`; refusing that
 * pair would break every authenticated Hub pull, and both hosts are Docker's.
 */
const KNOWN_AUTH_HOSTS: Readonly<Record<string, readonly string[]>> = {
  'registry-1.docker.io': ['auth.docker.io'],
  'docker.io': ['auth.docker.io'],
};

/**
 * True when basic credentials meant for `registryHost` may go to a token realm on
 * `realmHost` (both `host[:port]`, compared case-insensitively, port included): the
 * same host, or a token service known to belong to it.
 */
export function isTrustedRealmHost(registryHost: string, realmHost: string): boolean {
  const registry = registryHost.toLowerCase();
  const realm = realmHost.toLowerCase();
  return realm === registry || (KNOWN_AUTH_HOSTS[registry]?.includes(realm) ?? false);
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** `host[:port]` as in the reference (`docker.io` is mapped to `registry-1.docker.io`). */
  registry: string;
  /** Basic credentials, sent to the token service (Bearer) or the registry (Basic). Anonymous when absent. */
  credentials?: RegistryCredentials;
  /** Allow plain HTTP to a registry that is not on the loopback interface. Loopback registries always use HTTP. */
  plainHttp?: boolean;
  /** Replaces the global `fetch` (tests). */
  fetch?: typeof fetch;
  userAgent?: string;
  /** Body caps and timeouts replacing those of `REGISTRY_LIMITS`. */
  limits?: Partial<RegistryLimits>;
  /**
   * Send `credentials` to a Bearer token realm on a host other than the registry's
   * (default false). The realm comes from the registry's `WWW-Authenticate` header,
   * so a hostile registry could otherwise collect the user's password anywhere.
   */
  allowCrossHostRealm?: boolean;
}

/** A manifest or index as fetched: its raw bytes (which the digest covers) and parsed JSON. */
export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

/** True for `localhost`, `127.x.x.x` and `[::1]`, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (quoted or bare values). */
export function parseWwwAuthenticate(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2] ?? ''); p; p = re.exec(m[2] ?? '')) {
    params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly credentials: RegistryCredentials | undefined;
  private readonly plainHttp: boolean;
  private readonly allowCrossHostRealm: boolean;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;
  readonly limits: RegistryLimits;
  /** Authorization header per scope (`repository:x:pull`), once a challenge was answered. */
  private readonly auth = new Map<string, string>();

  constructor(options: RegistryClientOptions) {
    const host = options.registry === DOCKER_HUB ? 'registry-1.docker.io' : options.registry;
    if (!/^[\w.-]+(?::\d+)?$|^\[[0-9a-f:]+\](?::\d+)?$/i.test(host)) {
      throw new InvalidArgumentError('registry', 'a host name with an optional port', options.registry);
    }
    this.registry = options.registry;
    this.plainHttp = options.plainHttp === true;
    this.allowCrossHostRealm = options.allowCrossHostRealm === true;
    this.baseUrl = `${isLoopbackHost(host) || this.plainHttp ? 'http' : 'https'}://${host}`;
    this.credentials = options.credentials;
    this.fetchImpl = options.fetch ?? fetch;
    this.userAgent = options.userAgent ?? 'hcs-sandbox';
    this.limits = registryLimits(options.limits);
  }

  /** GET a manifest or index by tag or digest; verifies the body against the digest when asked by digest. */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const url = `${this.baseUrl}/v2/${repository}/manifests/${reference}`;
    const what = `manifest ${repository}:${reference}`;
    const res = await this.request(url, repository, { headers: { accept: MANIFEST_ACCEPT } }, what, signal);
    if (!res.ok) throw await this.error(res, url, what);
    const bytes = await readCapped(res, this.limits.maxManifestBytes, this.limits, what, signal);
    const digest = sha256Of(bytes);
    if (isDigest(reference) && digest !== reference) {
      throw new DigestMismatchError(`manifest ${repository}@${reference}`, reference, digest);
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new ImageFormatError(
        `manifest ${repository}:${reference} is not JSON (${(err as Error).message})`,
      );
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw new ImageFormatError(`manifest ${repository}:${reference} is not a JSON object`);
    }
    const obj = json as Record<string, unknown>;
    const header = res.headers.get('content-type')?.split(';')[0]?.trim();
    const mediaType = typeof obj.mediaType === 'string' ? obj.mediaType : (header ?? '');
    return { mediaType, digest, bytes, json: obj };
  }

  /**
   * GET a blob from `offset` on. Answers 200, 206 (range honoured) and 416 (range
   * not satisfiable) are returned for the caller to judge; others throw.
   */
  async openBlob(repository: string, digest: string, offset = 0, signal?: AbortSignal): Promise<Response> {
    const url = `${this.baseUrl}/v2/${repository}/blobs/${digest}`;
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const what = `blob ${repository}@${digest}`;
    const res = await this.request(url, repository, { headers }, what, signal);
    if (res.status === 200 || res.status === 206 || res.status === 416) return res;
    throw await this.error(res, url, what);
  }

  /** A small blob (an image config) read into memory, at most `maxConfigBytes` of it, and verified. */
  async getBlobBytes(repository: string, digest: string, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.openBlob(repository, digest, 0, signal);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError(`blob ${digest}: unexpected status ${res.status}`, res.status, res.url);
    }
    const what = `blob ${repository}@${digest}`;
    const bytes = await readCapped(res, this.limits.maxConfigBytes, this.limits, what, signal);
    const actual = sha256Of(bytes);
    if (actual !== digest) throw new DigestMismatchError(`blob ${repository}@${digest}`, digest, actual);
    return bytes;
  }

  private async request(
    url: string,
    repository: string,
    init: { method?: string; headers: Record<string, string> },
    what: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const scope = `repository:${repository}:pull`;
    const send = () => {
      const authorization = this.auth.get(scope);
      const request: RequestInit = {
        method: init.method ?? 'GET',
        headers: {
          'user-agent': this.userAgent,
          ...init.headers,
          ...(authorization ? { authorization } : {}),
        },
        redirect: 'follow',
      };
      return fetchWithTimeout(this.fetchImpl, url, request, this.limits, what, signal);
    };
    let res = await send();
    if (res.status !== 401) return res;
    const header = res.headers.get('www-authenticate');
    const challenge = header ? parseWwwAuthenticate(header) : undefined;
    if (!challenge) return res;
    await res.body?.cancel().catch(() => {});
    if (challenge.scheme === 'bearer') {
      this.auth.set(scope, `Bearer ${await this.fetchToken(challenge, scope, signal)}`);
    } else if (challenge.scheme === 'basic' && this.credentials) {
      const { username, password } = this.credentials;
      this.auth.set(scope, `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
    } else {
      return res;
    }
    res = await send();
    return res;
  }

  private async fetchToken(challenge: Challenge, scope: string, signal?: AbortSignal): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError('Bearer challenge without a realm', 401, this.baseUrl);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`Bearer realm is not a URL: ${realm}`, 401, this.baseUrl);
    }
    if (
      url.protocol !== 'https:' &&
      !(url.protocol === 'http:' && (isLoopbackHost(url.host) || this.plainHttp))
    ) {
      throw new RegistryError(`refusing token service over ${url.protocol} (${realm})`, 401, this.baseUrl);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', challenge.params.scope ?? scope);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    // Credentials go only to the registry's own host (or its known token service)
    // unless the caller opted in; otherwise the token is asked for anonymously.
    const withheld =
      this.credentials !== undefined &&
      !this.allowCrossHostRealm &&
      !isTrustedRealmHost(new URL(this.baseUrl).host, url.host);
    if (this.credentials && !withheld) {
      const { username, password } = this.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    const res = await fetchWithTimeout(this.fetchImpl, url, { headers }, this.limits, 'token', signal);
    if (!res.ok && withheld) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError(
        `token service ${url.host} is not the registry's host ${new URL(this.baseUrl).host}: ` +
          'credentials were withheld and the anonymous token request failed ' +
          `(HTTP ${res.status}); pass allowCrossHostRealm: true to send them there`,
        res.status,
        url.toString(),
      );
    }
    if (!res.ok) throw await this.error(res, url.toString(), 'token');
    const bytes = await readCapped(res, this.limits.maxTokenBytes, this.limits, 'token', signal);
    let body: { token?: unknown; access_token?: unknown } = {};
    try {
      body = JSON.parse(bytes.toString('utf8')) as typeof body;
    } catch {
      // judged below: no token
    }
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError('token service answered without a token', res.status, url.toString());
    }
    return token;
  }

  private error(res: Response, url: string, what: string): Promise<RegistryError> {
    return registryError(res, url, what, this.limits);
  }
}

/** The error for an unexpected status, with the registry's codes when its (capped) body holds them. */
async function registryError(
  res: Response,
  url: string,
  what: string,
  limits: RegistryLimits,
): Promise<RegistryError> {
  let codes: string[] = [];
  let detail = '';
  try {
    // An endless or stalled error body is cut short: the status alone is reported.
    const text = (await readCapped(res, limits.maxErrorBodyBytes, limits, what)).toString('utf8');
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    codes = (body.errors ?? []).map((e) => String(e.code ?? '')).filter(Boolean);
    detail = (body.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ');
  } catch {
    // not a JSON error body
  }
  return new RegistryError(
    `${what}: HTTP ${res.status}${detail ? ` (${detail})` : ''} from ${url}`,
    res.status,
    url,
    codes,
  );
}
