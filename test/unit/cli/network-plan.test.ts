import { beforeAll, describe, expect, it } from 'vitest';
import { parsePlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';

// Flag parsers that read units or lists through the SDK need it loaded (main.ts's readPlan does this).
beforeAll(loadSdk);

describe('network plans', () => {
  it.each([
    [['network', 'ls'], { kind: 'network-ls', json: false }],
    [['network', 'list', '--json'], { kind: 'network-ls', json: true }],
    [
      ['network', 'create', 'lab'],
      { kind: 'network-create', name: 'lab', type: 'nat', subnet: undefined, json: false },
    ],
    [
      ['network', 'create', 'lab', '--type', 'internal', '--subnet', '10.50.0.0/16', '--json'],
      { kind: 'network-create', name: 'lab', type: 'internal', subnet: '10.50.0.0/16', json: true },
    ],
    [
      ['network', 'create', 'x', '--type', 'NAT'],
      { kind: 'network-create', name: 'x', type: 'nat', subnet: undefined, json: false },
    ],
    [['network', 'rm', 'a', 'b'], { kind: 'network-rm', names: ['a', 'b'] }],
    [['network', 'inspect', 'lab'], { kind: 'network-inspect', name: 'lab', json: false }],
    [['network', 'inspect', 'nat', '--json'], { kind: 'network-inspect', name: 'nat', json: true }],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it.each([
    [['network', 'create', 'lab', '--type', 'bridge'], /--type must be nat or internal/],
    [['network', 'create', 'lab', '--subnet', '10.0.0.1/8'], /host bits/],
    [['network', 'create', 'lab', '--subnet', 'nope'], /not an IPv4 address/],
    [['network', 'create'], /missing required argument/],
    [['network', 'rm'], /missing required argument/],
    [['network', 'inspect'], /missing required argument/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
    expect(() => parsePlan(argv)).toThrow(message);
  });
});
