import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type HcsSandboxError, InvalidArgumentError } from '../../../src/index.js';
import * as server from '../../../src/remote/server/index.js';

const { addNewToken, checkListenSecurity, checkTokenFile, loadTokenFile, parseListen, sha256Hex } = server;

describe('serve: tokens', () => {
  it('adds tokens to a file holding only their hashes, and loads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-tokens-'));
    try {
      const file = join(dir, 'tokens.json');
      const ci = await addNewToken(file, 'ci', { maxSandboxes: 2 });
      const dev = await addNewToken(file, 'dev');
      expect(ci).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain(ci);
      expect(await loadTokenFile(file)).toEqual({
        tokens: [
          { name: 'ci', sha256: sha256Hex(ci), maxSandboxes: 2 },
          { name: 'dev', sha256: sha256Hex(dev) },
        ],
      });
      await expect(addNewToken(file, 'ci')).rejects.toThrow(
        /Invalid tokens\[2\]\.name: expected a name no other entry has/,
      );
      expect(statSync(file).isFile()).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{}, /Invalid tokens:/],
    [{ tokens: [{ name: 'a b', sha256: 'x' }] }, /Invalid tokens\[0\]\.name/],
    [{ tokens: [{ name: 'a', sha256: 'ABC' }] }, /Invalid tokens\[0\]\.sha256: expected 64 lower-case hex/],
    [
      { tokens: [{ name: 'a', sha256: 'a'.repeat(64), maxMemoryMB: -1 }] },
      /Invalid tokens\[0\]\.maxMemoryMB/,
    ],
  ])('refuses a bad token file, naming the field: %j', (file, message) => {
    expect(() => checkTokenFile(file)).toThrow(message);
  });
});

describe('serve: listen addresses', () => {
  it.each([
    ['127.0.0.1:7400', { host: '127.0.0.1', port: 7400, loopback: true }],
    [':0', { host: '127.0.0.1', port: 0, loopback: true }],
    ['[::1]:80', { host: '::1', port: 80, loopback: true }],
    ['localhost:1', { host: 'localhost', port: 1, loopback: true }],
    ['0.0.0.0:7400', { host: '0.0.0.0', port: 7400, loopback: false }],
    ['10.1.2.3:7400', { host: '10.1.2.3', port: 7400, loopback: false }],
  ])('parses %s', (text, parsed) => {
    expect(parseListen(text)).toEqual(parsed);
  });

  it.each(['7400', '127.0.0.1', '127.0.0.1:70000', '[nope]:1', 'a:b'])('refuses %s', (text) => {
    expect(() => parseListen(text)).toThrow(InvalidArgumentError);
  });

  it('refuses a reachable address without TLS or without a token file, saying what to add', () => {
    const at = parseListen('0.0.0.0:7400');
    expect(() => checkListenSecurity('0.0.0.0:7400', at, { tls: false, tokenFile: false })).toThrow(
      /add --tls-cert\/--tls-key and --token-file\)/,
    );
    expect(() => checkListenSecurity('0.0.0.0:7400', at, { tls: true, tokenFile: false })).toThrow(
      /add --token-file\)/,
    );
    expect(() => checkListenSecurity('0.0.0.0:7400', at, { tls: true, tokenFile: true })).not.toThrow();
    const loop = parseListen('127.0.0.1:7400');
    expect(() => checkListenSecurity('127.0.0.1:7400', loop, { tls: false, tokenFile: false })).not.toThrow();
  });
});

describe("serve: the server's errors", () => {
  const samples: HcsSandboxError[] = [
    new server.UnauthorizedError('missing'),
    new server.QuotaExceededError('maxSandboxes', 1, 1, 1),
    new server.BodyTooLargeError(10, 'file body'),
    new server.MalformedBodyError('x'),
    new server.OutputTooLargeError(10),
    new server.RouteNotFoundError('/x'),
    new server.MethodNotAllowedError('PUT', ['GET']),
    new server.RequestTimeoutError(),
    new server.InsecureListenError('0.0.0.0:1', ['--token-file']),
  ];

  it('each has its own code and a row under its kind in docs/errors.md', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
    const kinds = new Map<string, string>();
    for (const line of docs.split('\n')) {
      const m = /^\| `([a-z-]+)` +\| [^|]+\| (.+?) *\|$/.exec(line);
      if (!m) continue;
      for (const code of m[2]!.matchAll(/`([A-Z0-9_]+)`/g)) kinds.set(code[1]!, m[1]!);
    }
    for (const error of samples) {
      expect({ code: error.code, kind: kinds.get(error.code) }).toEqual({
        code: error.code,
        kind: error.kind,
      });
      expect(docs).toContain(`| \`${error.constructor.name}\``);
    }
    expect(new Set(samples.map((e) => e.code)).size).toBe(samples.length);
  });

  it('never puts the presented token in the 401 message', () => {
    expect(new server.UnauthorizedError('unknown').message).not.toMatch(/Bearer [A-Za-z0-9]{8}/);
  });
});
