import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serveCommand } from '../../../src/cli/commands/serve.js';
import { parsePlan, readPlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';
import { localToken, sha256Hex } from '../../../src/remote/server/index.js';

beforeAll(loadSdk);

describe('hcs-sandbox serve', () => {
  const defaults = {
    kind: 'serve',
    listen: '127.0.0.1:7400',
    tokenFile: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    leaseSeconds: 60,
    maxFileBytes: 2 ** 30,
    json: false,
  };

  it.each([
    [['serve'], defaults],
    [
      [
        'serve',
        '--listen',
        '0.0.0.0:8443',
        '--token-file',
        't.json',
        '--tls-cert',
        'c.pem',
        '--tls-key',
        'k.pem',
      ],
      { ...defaults, listen: '0.0.0.0:8443', tokenFile: 't.json', tlsCert: 'c.pem', tlsKey: 'k.pem' },
    ],
    [
      ['serve', '--lease-seconds', '5', '--max-file-bytes', '64m', '--json'],
      { ...defaults, leaseSeconds: 5, maxFileBytes: 64 * 2 ** 20, json: true },
    ],
    [
      ['serve', '--new-token', 'ci', '--token-file', 't.json'],
      { kind: 'serve-new-token', name: 'ci', tokenFile: 't.json' },
    ],
  ])('%j', async (argv, expected) => {
    expect(await readPlan(argv)).toEqual(expected);
  });

  it.each([
    [['serve', '--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
    [['serve', '--lease-seconds', '0'], /positive whole number/],
  ])('rejects %j', (argv, message) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
    expect(() => parsePlan(argv)).toThrow(message);
  });

  it('explains itself in help', () => {
    const own = parsePlan(['serve', '--help']);
    expect(own.kind === 'help' && own.text).toMatch(/--token-file/);
    expect(own.kind === 'help' && own.text).toMatch(/Authorization: Bearer/);
  });
});

describe('serve runs', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
  };

  it('--new-token prints the token once and adds only its hash to the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-new-token-'));
    try {
      const file = join(dir, 'tokens.json');
      const { io: sink, out, err } = io();
      expect(await serveCommand.run({ kind: 'serve-new-token', name: 'ci', tokenFile: file }, sink)).toBe(0);
      const token = out.join('').trim();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(err.join('')).toMatch(/^added token "ci" to .*tokens\.json \(its hash only/);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
        tokens: [{ name: 'ci', sha256: sha256Hex(token) }],
      });
      writeFileSync(file, '{ not json');
      await expect(
        serveCommand.run({ kind: 'serve-new-token', name: 'x', tokenFile: file }, sink),
      ).rejects.toThrow(/^Invalid tokenFile: expected a JSON token file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a reachable address without TLS and a token file before it listens', async () => {
    const { io: sink, out } = io();
    const plan = {
      kind: 'serve',
      listen: '0.0.0.0:7400',
      tokenFile: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      leaseSeconds: 60,
      maxFileBytes: 1024,
      json: false,
    } as const;
    await expect(serveCommand.run(plan, sink)).rejects.toMatchObject({
      code: 'INSECURE_LISTEN',
      kind: 'invalid-argument',
      message: expect.stringMatching(/add --tls-cert\/--tls-key and --token-file\)\.$/),
    });
    expect(out).toEqual([]);
  });
});

describe('the token serve makes for itself', () => {
  it('is made once, kept owner-only, its hash in serve-tokens.json, and reused while they agree', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'serve-local-')), 'store');
    try {
      const first = await localToken(root);
      expect(first.created).toBe(true);
      const token = readFileSync(first.tokenPath, 'utf8').trim();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(statSync(first.tokenPath).mode & 0o777).toBe(0o600);
      expect(statSync(root).mode & 0o077).toBe(0);
      expect(first.tokens.tokens).toEqual([{ name: 'local', sha256: sha256Hex(token) }]);
      expect(readFileSync(first.tokenFile, 'utf8')).not.toContain(token);
      const again = await localToken(root);
      expect(again.created).toBe(false);
      expect(readFileSync(again.tokenPath, 'utf8').trim()).toBe(token);
    } finally {
      rmSync(join(root, '..'), { recursive: true, force: true });
    }
  });
});
