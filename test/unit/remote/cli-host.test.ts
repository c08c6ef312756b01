import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalFlags, parsePlan } from '../../../src/cli/plan.js';
import { remoteToken } from '../../../src/cli/remote-token.js';
import { loadSdk } from '../../../src/cli/sdk.js';

const dir = mkdtempSync(join(tmpdir(), 'hcs-sandbox-cli-host-'));
beforeAll(async () => {
  await loadSdk();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--host and --token-file', () => {
  it.each([
    [['--host', 'http://a:1', 'ls'], { host: 'http://a:1' }],
    [['ls', '--host=http://a:1'], { host: 'http://a:1' }],
    [['-H', 'http://a:1', 'rm', 'x', '--token-file', 'f'], { host: 'http://a:1', tokenFile: 'f' }],
    [['exec', 'x', '--', 'tool', '--host', 'http://b'], {}],
    [['ls', '--host', 'http://a', '--host', 'http://b'], { host: 'http://b' }],
  ])('globalFlags(%j)', (argv, expected) => {
    expect(globalFlags(argv)).toEqual({ json: false, debug: false, ...expected });
  });

  it('the parser accepts them before or after the verb, and leaves the command after -- alone', () => {
    expect(parsePlan(['--host', 'http://a', 'ls'])).toMatchObject({ kind: 'sandbox-ls' });
    expect(parsePlan(['exec', '-H', 'http://a', 'box', '--', 'tool', '--host', 'x'])).toMatchObject({
      kind: 'sandbox-exec',
      name: 'box',
      command: ['tool', '--host', 'x'],
    });
    expect(parsePlan(['rm', 'box', '--token-file', 'f'])).toMatchObject({
      kind: 'sandbox-rm',
      names: ['box'],
    });
  });

  it('the token: --token-file, else HCS_SANDBOX_TOKEN, else HCS_SANDBOX_TOKEN_FILE', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, 'from-a\n');
    writeFileSync(b, '  from-b  ');
    const env = { HCS_SANDBOX_TOKEN: 'from-env', HCS_SANDBOX_TOKEN_FILE: b };
    expect(await remoteToken({ url: 'u', tokenFile: a }, env)).toBe('from-a');
    expect(await remoteToken({ url: 'u' }, env)).toBe('from-env');
    expect(await remoteToken({ url: 'u' }, { HCS_SANDBOX_TOKEN_FILE: b })).toBe('from-b');
    expect(await remoteToken({ url: 'u' }, {})).toBeUndefined();
  });

  it('a token file that is missing or empty is a one-line error naming it', async () => {
    await expect(remoteToken({ url: 'u', tokenFile: join(dir, 'nope') }, {})).rejects.toMatchObject({
      code: 'ENOENT',
      message: `${join(dir, 'nope')}: no such file or folder.`,
    });
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    await expect(remoteToken({ url: 'u', tokenFile: empty }, {})).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'token file',
    });
  });
});
