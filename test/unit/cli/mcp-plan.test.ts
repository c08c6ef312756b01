import { beforeAll, describe, expect, it } from 'vitest';
import { reportEnd } from '../../../src/cli/commands/mcp.js';
import { parsePlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';

beforeAll(loadSdk);

describe('hcs-sandbox mcp', () => {
  it.each([
    [['mcp'], { kind: 'mcp', host: undefined }],
    [['mcp', '--host', 'https://win1:8443'], { kind: 'mcp', host: 'https://win1:8443' }],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it('rejects arguments it does not take', () => {
    expect(() => parsePlan(['mcp', 'box1'])).toThrow(UsageError);
    expect(() => parsePlan(['mcp', '--host'])).toThrow(/argument missing/);
  });

  it('explains itself in help', () => {
    const own = parsePlan(['mcp', '--help']);
    expect(own.kind === 'help' && own.text).toMatch(/Model Context Protocol on stdin\/stdout/);
    expect(own.kind === 'help' && own.text).toMatch(/unless created with persistent: true/);
  });

  it('reports what ending the session did on stderr', () => {
    let err = '';
    const io = {
      out: () => expect.unreachable('stdout carries the protocol'),
      err: (s: string) => (err += s),
    };
    reportEnd(io, {
      removed: ['a', 'b'],
      kept: ['k'],
      failed: [{ name: 'c', code: 'SANDBOX_BUSY', message: 'busy.' }],
    });
    expect(err).toBe(
      'session ended: removed a, b; kept (persistent) k\ncould not remove c: SANDBOX_BUSY: busy.\n',
    );
    err = '';
    reportEnd(io, { removed: [], kept: [], failed: [] });
    expect(err).toBe('session ended\n');
  });
});
