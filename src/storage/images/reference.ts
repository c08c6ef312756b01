import { InvalidArgumentError } from '../../internal/errors.js';

/**
 * Image references, parsed and normalised the way Docker does
 * (`github.com/distribution/reference`: `reference.go`, `normalize.go`,
 * `regexp.go`):
 *
 * ```
 * reference  := name [ ":" tag ] [ "@" digest ]
 * name       := [ domain "/" ] path
 * domain     := host [ ":" port ]        host: DNS name, IPv4, or [IPv6]
 * path       := component ( "/" component )*
 * component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 * tag        := [\w][\w.-]{0,127}
 * digest     := algorithm ":" hex
 * ```
 *
 * The first `/`-separated part is a domain only when it contains `.` or `:`,
 * is `localhost`, or has an upper-case letter; otherwise the domain is
 * `docker.io`, and a single-component path on `docker.io` gets `library/`.
 * `index.docker.io` is `docker.io`. A reference with neither tag nor digest
 * gets the tag `latest`.
 */
export interface ImageReference {
  /** The registry host, with its port when it has one (`docker.io`, `localhost:5000`). */
  domain: string;
  /** The repository path inside the registry (`library/nginx`, `windows/nanoserver`). */
  path: string;
  /** `domain/path`. */
  name: string;
  /** The tag; `latest` when the input had neither tag nor digest. */
  tag?: string;
  /** `algorithm:hex` when the input pinned a digest. */
  digest?: string;
  /** The full normalised form: `domain/path[:tag][@digest]`. */
  normalized: string;
  /** The short form Docker prints: no `docker.io/`, no `library/`. */
  familiar: string;
}

const FIELD = 'reference';
const ALLOWED = 'an image reference [registry[:port]/][namespace/]name[:tag][@sha256:digest]';
const NAME_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_NAME_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[(?:[a-fA-F0-9:]+)\]$/;
const PORT = /^[0-9]+$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const HEX_ID = /^[a-f0-9]{64}$/;

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

function fail(input: unknown, detail: string): never {
  throw new InvalidArgumentError(FIELD, ALLOWED, input, detail);
}

/**
 * Parses and normalises an image reference. Throws `InvalidArgumentError`
 * (field `reference`) naming what did not parse.
 */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string') fail(input, 'not a string');
  if (input.length === 0) fail(input, 'empty');
  if (/\s/.test(input)) fail(input, 'contains whitespace');
  if (HEX_ID.test(input))
    fail(input, 'a 64-character hexadecimal string is an image id, not a repository name');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    validateDigest(input, digest);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) {
      fail(
        input,
        tag.length > 128
          ? 'tag longer than 128 characters'
          : `bad tag ${JSON.stringify(tag)}: letters, digits, '_', '.', '-', not starting with '.' or '-'`,
      );
    }
  }

  if (rest.length === 0) fail(input, 'no repository name');
  if (rest.length > NAME_MAX) fail(input, `repository name longer than ${NAME_MAX} characters`);
  const { domain, path } = splitDomain(input, rest);
  validatePath(input, path);
  const name = `${domain}/${path}`;
  // Docker measures the normalised name (`ParseNormalizedNamed` parses `domain + "/" +
  // remainder`, distribution/reference normalize.go): a name that fits only as written
  // would be refused once normalised, and the normalised form is what gets stored.
  if (name.length > NAME_MAX) {
    fail(
      input,
      `repository name longer than ${NAME_MAX} characters once normalised (${name.length}: ${name.slice(0, 40)}...)`,
    );
  }

  const effectiveTag = tag ?? (digest === undefined ? DEFAULT_TAG : undefined);
  const suffix = `${effectiveTag === undefined ? '' : `:${effectiveTag}`}${digest === undefined ? '' : `@${digest}`}`;
  const result: ImageReference = {
    domain,
    path,
    name,
    normalized: `${name}${suffix}`,
    familiar: `${familiarName(domain, path)}${suffix}`,
  };
  if (effectiveTag !== undefined) result.tag = effectiveTag;
  if (digest !== undefined) result.digest = digest;
  return result;
}

/** The full normalised form of a reference (`docker.io/library/nginx:latest`). */
export function normalizeReference(input: string): string {
  return parseReference(input).normalized;
}

/** Whether the string parses as a reference, without throwing. */
export function isValidReference(input: string): boolean {
  try {
    parseReference(input);
    return true;
  } catch {
    return false;
  }
}

/** Same image reference once normalised (`nginx` and `docker.io/library/nginx:latest`). */
export function sameReference(a: string, b: string): boolean {
  return normalizeReference(a) === normalizeReference(b);
}

function familiarName(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  if (path.startsWith(OFFICIAL_REPO_PREFIX) && !path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return path;
}

function splitDomain(input: string, name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let path: string;
  const first = slash === -1 ? '' : name.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(slash + 1);
    validateDomain(input, domain);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `${OFFICIAL_REPO_PREFIX}${path}`;
  return { domain, path };
}

function validateDomain(input: string, domain: string): void {
  let host = domain;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close === -1) fail(input, `bad registry ${JSON.stringify(domain)}: unclosed '[' in an IPv6 address`);
    host = domain.slice(0, close + 1);
    const after = domain.slice(close + 1);
    if (!IPV6_HOST.test(host)) fail(input, `bad registry ${JSON.stringify(domain)}: not an IPv6 address`);
    if (after !== '') {
      if (!after.startsWith(':') || !PORT.test(after.slice(1))) {
        fail(input, `bad registry ${JSON.stringify(domain)}: the port must be digits`);
      }
    }
    return;
  }
  const colon = domain.indexOf(':');
  if (colon !== -1) {
    host = domain.slice(0, colon);
    const port = domain.slice(colon + 1);
    if (!PORT.test(port)) fail(input, `bad registry ${JSON.stringify(domain)}: the port must be digits`);
  }
  if (host.length === 0) fail(input, `bad registry ${JSON.stringify(domain)}: empty host`);
  for (const part of host.split('.')) {
    if (!DOMAIN_NAME_COMPONENT.test(part)) {
      fail(
        input,
        `bad registry ${JSON.stringify(domain)}: each dot-separated part is letters, digits and inner '-'`,
      );
    }
  }
}

function validatePath(input: string, path: string): void {
  if (path.length === 0) fail(input, 'no repository name after the registry');
  for (const component of path.split('/')) {
    if (component.length === 0) fail(input, `empty path component in ${JSON.stringify(path)}`);
    if (component.toLowerCase() !== component && PATH_COMPONENT.test(component.toLowerCase())) {
      fail(input, `repository name must be lowercase (${JSON.stringify(component)})`);
    }
    if (!PATH_COMPONENT.test(component)) {
      fail(
        input,
        `bad path component ${JSON.stringify(component)}: lowercase letters and digits, separated by '.', '_', '__' or '-'`,
      );
    }
  }
}

function validateDigest(input: string, digest: string): void {
  const match = DIGEST.exec(digest);
  if (!match) fail(input, `bad digest ${JSON.stringify(digest)}: expected algorithm:hex (sha256:<64 hex>)`);
  const algorithm = match[1]!;
  const hex = match[2]!;
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) fail(input, `unsupported digest algorithm ${JSON.stringify(algorithm)}`);
  if (hex.length !== length)
    fail(input, `a ${algorithm} digest has ${length} hex characters, got ${hex.length}`);
  if (hex !== hex.toLowerCase()) fail(input, 'digest hex must be lowercase');
}
