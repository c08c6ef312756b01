import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/internal/errors.js';
import {
  isValidReference,
  normalizeReference,
  parseReference,
  sameReference,
} from '../../../../src/storage/images/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference: valid references', () => {
  const cases: Array<[string, string, string]> = [
    // input, normalized, familiar
    ['nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25', 'nginx:1.25'],
    ['library/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    [
      'mcr.microsoft.com/windows/nanoserver:ltsc2022',
      'mcr.microsoft.com/windows/nanoserver:ltsc2022',
      'mcr.microsoft.com/windows/nanoserver:ltsc2022',
    ],
    [
      'mcr.microsoft.com/windows/servercore',
      'mcr.microsoft.com/windows/servercore:latest',
      'mcr.microsoft.com/windows/servercore:latest',
    ],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/app:v1', 'localhost:5000/app:v1', 'localhost:5000/app:v1'],
    [
      'registry.local:5000/team/app',
      'registry.local:5000/team/app:latest',
      'registry.local:5000/team/app:latest',
    ],
    ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000/app:latest'],
    ['192.168.1.2:443/a/b:c', '192.168.1.2:443/a/b:c', '192.168.1.2:443/a/b:c'],
    ['Registry.Example.com/app', 'Registry.Example.com/app:latest', 'Registry.Example.com/app:latest'],
    // An upper-case first component is a domain for Docker.
    ['Foo/bar', 'Foo/bar:latest', 'Foo/bar:latest'],
    [`nginx@${D}`, `docker.io/library/nginx@${D}`, `nginx@${D}`],
    [`nginx:1@${D}`, `docker.io/library/nginx:1@${D}`, `nginx:1@${D}`],
    ['x/a__b.c-d---e/f_g', 'docker.io/x/a__b.c-d---e/f_g:latest', 'x/a__b.c-d---e/f_g:latest'],
    // A first component with a dot is a registry, even when it looks like a name.
    ['a.b/c', 'a.b/c:latest', 'a.b/c:latest'],
    ['app:_tag.1-X', 'docker.io/library/app:_tag.1-X', 'app:_tag.1-X'],
    [`app:${'t'.repeat(128)}`, `docker.io/library/app:${'t'.repeat(128)}`, `app:${'t'.repeat(128)}`],
  ];
  it.each(cases)('%s', (input, normalized, familiar) => {
    const ref = parseReference(input);
    expect(ref.normalized).toBe(normalized);
    expect(ref.familiar).toBe(familiar);
    expect(parseReference(ref.normalized).normalized).toBe(normalized);
    expect(parseReference(ref.familiar).normalized).toBe(normalized);
  });

  it('splits the parts', () => {
    expect(parseReference(`localhost:5000/a/b:t@${D}`)).toEqual({
      domain: 'localhost:5000',
      path: 'a/b',
      name: 'localhost:5000/a/b',
      tag: 't',
      digest: D,
      normalized: `localhost:5000/a/b:t@${D}`,
      familiar: `localhost:5000/a/b:t@${D}`,
    });
    const pinned = parseReference(`nginx@${D}`);
    expect(pinned.tag).toBeUndefined();
    expect(pinned.digest).toBe(D);
  });

  it('accepts sha512 digests', () => {
    const d = `sha512:${'0'.repeat(128)}`;
    expect(parseReference(`a@${d}`).digest).toBe(d);
  });

  it('helpers', () => {
    expect(normalizeReference('busybox')).toBe('docker.io/library/busybox:latest');
    expect(sameReference('busybox', 'docker.io/library/busybox:latest')).toBe(true);
    expect(sameReference('busybox:1', 'busybox')).toBe(false);
    expect(isValidReference('UPPER')).toBe(false);
    expect(isValidReference('ok')).toBe(true);
  });
});

describe('parseReference: invalid references', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['empty', '', /empty/],
    ['whitespace', 'nginx ', /whitespace/],
    ['inner whitespace', 'ng inx', /whitespace/],
    ['newline', 'nginx\n', /whitespace/],
    ['upper-case repository', 'Nginx', /lowercase/],
    ['upper-case path under a registry', 'mcr.microsoft.com/Windows/nanoserver', /lowercase/],
    ['64-hex id', 'a'.repeat(64), /image id/],
    ['colon only', ':', /bad tag|no repository name/],
    ['tag only', ':latest', /no repository name/],
    ['digest only', `@${D}`, /no repository name/],
    ['empty tag', 'nginx:', /bad tag/],
    ['tag starting with dot', 'nginx:.x', /bad tag/],
    ['tag starting with dash', 'nginx:-x', /bad tag/],
    ['tag with slash is a bad path', 'nginx:a/b', /bad path component|port/],
    ['tag too long', `nginx:${'t'.repeat(129)}`, /longer than 128/],
    ['two @', `a@${D}@${D}`, /digest/],
    ['bad digest', 'nginx@sha256:xyz', /bad digest/],
    ['short digest', `nginx@sha256:${'a'.repeat(63)}`, /64 hex/],
    ['upper-case digest', `nginx@sha256:${'A'.repeat(64)}`, /lowercase/],
    ['unknown algorithm', `nginx@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    ['double slash', 'a//b', /empty path component/],
    ['trailing slash', 'a/', /empty path component/],
    ['leading slash', '/a', /empty path component|no repository/],
    ['registry only', 'mcr.microsoft.com/', /no repository name|empty path/],
    ['leading separator', '-a', /bad path component/],
    ['trailing separator', 'a-', /bad path component/],
    ['triple underscore', 'a___b', /bad path component/],
    ['dot dot', 'a..b', /bad path component/],
    ['non-ascii', 'nginx\u00e9', /bad path component/],
    ['bad port', 'localhost:abc/app', /port must be digits/],
    ['empty port', 'localhost:/app', /port must be digits/],
    ['domain dash', '-bad.com/app', /bad registry/],
    ['domain empty label', 'a..com/app', /bad registry/],
    ['unclosed IPv6', '[::1/app', /IPv6|bad/],
    ['bad IPv6', '[zz]:5000/app', /IPv6/],
    ['too long', `${'a'.repeat(256)}`, /longer than 255/],
    ['not a string', 42, /not a string/],
  ];
  it.each(cases)('%s', (_label, input, detail) => {
    let caught: unknown;
    try {
      parseReference(input as string);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    const e = caught as InvalidArgumentError;
    expect(e.field).toBe('reference');
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.received).toBe(input);
    expect(e.message).toMatch(detail);
  });
});
