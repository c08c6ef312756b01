import { describe, expect, it } from 'vitest';
import { parsePlan, UsageError } from '../../../src/cli/plan.js';

describe('parsePlan', () => {
  it.each([
    [['version'], { kind: 'version', json: false }],
    [['version', '--json'], { kind: 'version', json: true }],
    [['systems'], { kind: 'systems', json: false, owners: [], ids: [] }],
    [
      ['systems', '--owner', 'hcs-sandbox', '--owner', 'Madrid', '--id', 'a', '--json'],
      { kind: 'systems', json: true, owners: ['hcs-sandbox', 'Madrid'], ids: ['a'] },
    ],
    [
      ['raw', 'run', 'doc.json', '--', 'cmd', '/c', 'echo', 'hi'],
      {
        kind: 'raw-run',
        documentPath: 'doc.json',
        id: undefined,
        command: ['cmd', '/c', 'echo', 'hi'],
        timeoutMs: undefined,
      },
    ],
    [
      ['raw', 'run', '--id', 'x1', '--timeout', '5000', 'doc.json', '--', 'cmd', '/c', 'dir'],
      { kind: 'raw-run', documentPath: 'doc.json', id: 'x1', command: ['cmd', '/c', 'dir'], timeoutMs: 5000 },
    ],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it('gives help text for --help and for no command', () => {
    const help = parsePlan(['--help']);
    expect(help.kind).toBe('help');
    expect(help.kind === 'help' && help.text).toContain('systems');
    expect(parsePlan([]).kind).toBe('help');
  });

  it.each([
    [['nosuch'], /unknown command 'nosuch'/],
    [['systems', '--bogus'], /unknown option '--bogus'/],
    [['raw', 'run', 'doc.json'], /missing required argument 'command'/],
    [['raw', 'run', '--timeout', '-3', 'doc.json', '--', 'x'], /positive whole number/],
    [['raw', 'run', '--timeout', 'soon', 'doc.json', '--', 'x'], /positive whole number/],
  ])('rejects %j', (argv, message) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
    expect(() => parsePlan(argv)).toThrow(message);
  });
});
