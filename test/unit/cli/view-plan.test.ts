import { beforeAll, describe, expect, it } from 'vitest';
import { describeViewEvent } from '../../../src/cli/commands/view.js';
import { parsePlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';

beforeAll(loadSdk);

describe('hcs-sandbox view', () => {
  it.each([
    [['view', 'dev'], { kind: 'view', name: 'dev', launch: true, port: 0, json: false }],
    [
      ['view', 'dev', '--no-launch', '--port', '3390', '--json'],
      { kind: 'view', name: 'dev', launch: false, port: 3390, json: true },
    ],
    [['view', '--port', '0', 'dev'], { kind: 'view', name: 'dev', launch: true, port: 0, json: false }],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it.each([
    [['view'], /missing required argument 'name'/],
    [['view', 'dev', '--port', '65536'], /port from 0 to 65535/],
    [['view', 'dev', '--port', '-1'], /port from 0 to 65535|unknown option/],
    [['view', 'dev', '--port', '1e3'], /port from 0 to 65535/],
  ])('rejects %j', (argv, message) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
    expect(() => parsePlan(argv)).toThrow(message);
  });

  it('is listed with the sandbox verbs and explains itself', () => {
    const help = parsePlan(['--help']);
    expect(help.kind === 'help' && help.text).toMatch(/view\s.*screen/);
    const own = parsePlan(['view', '--help']);
    expect(own.kind === 'help' && own.text).toMatch(/--no-launch/);
    expect(own.kind === 'help' && own.text).toMatch(/one viewer at a time/);
  });

  it('says clearly that a second viewer was refused', () => {
    expect(describeViewEvent({ type: 'viewer-refused', viewer: '127.0.0.1:5000' })).toMatch(
      /^a viewer is already connected/,
    );
    expect(
      describeViewEvent({
        type: 'pipe-unavailable',
        viewer: 'v',
        pipe: '\\\\.\\pipe\\x',
        error: new Error('ENOENT'),
      }),
    ).toContain('\\\\.\\pipe\\x');
  });
});
