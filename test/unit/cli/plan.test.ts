import { beforeAll, describe, expect, it } from 'vitest';
import { parsePlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';

// Flag parsers that read units or lists through the SDK need it loaded (main.ts's readPlan does this).
beforeAll(loadSdk);

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

describe('image commands', () => {
  it.each([
    [['image', 'ls'], { kind: 'image-ls', json: false }],
    [['image', 'list', '--json'], { kind: 'image-ls', json: true }],
    [
      ['image', 'pull', 'mcr.microsoft.com/windows/nanoserver:ltsc2022'],
      {
        kind: 'image-pull',
        reference: 'mcr.microsoft.com/windows/nanoserver:ltsc2022',
        allowOlderBuild: false,
        json: false,
      },
    ],
    [
      ['image', 'pull', '--allow-older-build', 'x:1'],
      { kind: 'image-pull', reference: 'x:1', allowOlderBuild: true, json: false },
    ],
    [['image', 'load', 'a.tar'], { kind: 'image-load', path: 'a.tar', reference: undefined, json: false }],
    [
      ['image', 'load', '--reference', 'mine:1', 'a.tar'],
      { kind: 'image-load', path: 'a.tar', reference: 'mine:1', json: false },
    ],
    [['image', 'rm', 'a:1', 'b:2'], { kind: 'image-rm', references: ['a:1', 'b:2'], json: false }],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it.each([[['image', 'pull']], [['image', 'rm']], [['image', 'frobnicate']]])('rejects %j', (argv) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
  });
});

describe('maintenance commands', () => {
  it.each([
    [['doctor'], { kind: 'doctor', json: false }],
    [['doctor', '--json'], { kind: 'doctor', json: true }],
    [['gc'], { kind: 'gc', dryRun: false, json: false }],
    [['gc', '--dry-run', '--json'], { kind: 'gc', dryRun: true, json: true }],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });
});

describe('stats, top, update, ip', () => {
  it.each([
    [['stats'], { kind: 'stats', names: [], stream: true, json: false, intervalMs: 1000 }],
    [
      ['stats', 'a', 'b', '--no-stream', '--json', '--interval', '500'],
      { kind: 'stats', names: ['a', 'b'], stream: false, json: true, intervalMs: 500 },
    ],
    [['top', 'a'], { kind: 'top', name: 'a', json: false }],
    [
      ['update', 'a', '--memory', '2048', '--cpu-limit', '50%'],
      { kind: 'update', name: 'a', memoryMB: 2048, cpus: undefined, cpuLimit: 50 },
    ],
    [['ip', 'a', '--json'], { kind: 'ip', name: 'a', json: true }],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it.each([
    [['update', 'a', '--cpu-limit', '150']],
    [['update', 'a', '--memory', 'lots']],
    [['stats', '--interval', '0']],
    [['top']],
  ])('rejects %j', (argv) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
  });
});

describe('commit', () => {
  it('parses NAME REF', () => {
    expect(parsePlan(['commit', 'prep', 'local/app:1'])).toEqual({
      kind: 'commit',
      name: 'prep',
      reference: 'local/app:1',
      json: false,
    });
  });
  it('needs both', () => {
    expect(() => parsePlan(['commit', 'prep'])).toThrow(UsageError);
  });
});

describe('run/create network and CPU flags', () => {
  it('carries --network-name, --allow, --dns, --dns-search and --cpu-limit into the plan', () => {
    expect(
      parsePlan([
        'create',
        '--network',
        'isolated',
        '--allow',
        '10.1.0.0/16',
        '--allow',
        '192.168.5.0/24',
        '--dns',
        '1.1.1.1',
        '--dns-search',
        'corp.example',
        '--network-name',
        'lab',
        '--cpu-limit',
        '25',
        'local/base:1',
      ]),
    ).toMatchObject({
      kind: 'sandbox-create',
      network: 'isolated',
      allow: ['10.1.0.0/16', '192.168.5.0/24'],
      dns: ['1.1.1.1'],
      dnsSearch: ['corp.example'],
      networkName: 'lab',
      cpuLimit: 25,
    });
  });

  it('refuses a CPU cap outside 1-100', () => {
    expect(() => parsePlan(['create', '--cpu-limit', '0', 'x'])).toThrow(UsageError);
  });
});
