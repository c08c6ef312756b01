import { beforeAll, describe, expect, it } from 'vitest';
import { ago, commandInput, parseCpOperand, parseEnv, parseVolume } from '../../../src/cli/format.js';
import { parsePlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';

// Flag parsers that read units or lists through the SDK need it loaded (main.ts's readPlan does this).
beforeAll(loadSdk);

const spec = {
  image: 'local/base:1',
  name: undefined,
  isolation: 'process',
  memoryMB: undefined,
  cpus: undefined,
  volumes: [],
  env: {},
  workingDir: undefined,
  network: undefined,
  ports: [],
  pull: 'missing',
  quiet: false,
  verbose: false,
};

describe('sandbox verbs: argv → plan', () => {
  it.each([
    [
      ['run', 'local/base:1', '--', 'cmd', '/c', 'echo', 'hi'],
      {
        kind: 'sandbox-run',
        ...spec,
        command: ['cmd', '/c', 'echo', 'hi'],
        rm: false,
        detach: false,
        interactive: false,
        tty: false,
      },
    ],
    [
      [
        'run',
        '--rm',
        '--name',
        'box1',
        '--isolation',
        'hyperv',
        '--memory',
        '2048',
        '--cpus',
        '2',
        '-v',
        'C:\\host\\data:C:\\data:ro',
        '--volume',
        'D:\\src:C:\\src',
        '-e',
        'A=1',
        '--env',
        'B=x=y',
        '-w',
        'C:\\work',
        '-q',
        '--network',
        'isolated',
        '-p',
        '8080:80',
        '--publish',
        '5353:53/udp',
        'mcr.microsoft.com/windows/nanoserver:ltsc2022',
        '--',
        'cmd /c dir',
      ],
      {
        kind: 'sandbox-run',
        image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022',
        name: 'box1',
        isolation: 'hyperv',
        memoryMB: 2048,
        cpus: 2,
        volumes: [
          { hostPath: 'C:\\host\\data', sandboxPath: 'C:\\data', readOnly: true },
          { hostPath: 'D:\\src', sandboxPath: 'C:\\src', readOnly: false },
        ],
        env: { A: '1', B: 'x=y' },
        workingDir: 'C:\\work',
        network: 'isolated',
        ports: ['8080:80', '5353:53/udp'],
        pull: 'missing',
        quiet: true,
        verbose: false,
        command: ['cmd /c dir'],
        rm: true,
        detach: false,
        interactive: false,
        tty: false,
      },
    ],
    [
      ['run', '-d', '--persistent', 'local/base:1', '--', 'ping', '-t', 'localhost'],
      {
        kind: 'sandbox-run',
        ...spec,
        command: ['ping', '-t', 'localhost'],
        rm: false,
        detach: true,
        interactive: false,
        tty: false,
      },
    ],
    [
      ['run', '-it', 'local/base:1', '--', 'cmd'],
      {
        kind: 'sandbox-run',
        ...spec,
        command: ['cmd'],
        rm: false,
        detach: false,
        interactive: true,
        tty: true,
      },
    ],
    [
      ['exec', '-it', 'box1', '--', 'cmd'],
      {
        kind: 'sandbox-exec',
        name: 'box1',
        command: ['cmd'],
        env: {},
        cwd: undefined,
        user: undefined,
        interactive: true,
        tty: true,
      },
    ],
    [['create', 'local/base:1'], { kind: 'sandbox-create', ...spec }],
    [
      ['create', '--name', 'keeper', '-e', 'X=1', 'local/base:1'],
      { kind: 'sandbox-create', ...spec, name: 'keeper', env: { X: '1' } },
    ],
    [['start', 'a', 'b'], { kind: 'sandbox-start', names: ['a', 'b'], quiet: false, verbose: false }],
    [['start', '--verbose', 'a'], { kind: 'sandbox-start', names: ['a'], quiet: false, verbose: true }],
    [
      ['start', 'my.wsb', '--isolation', 'process', '--image', 'local/base:1'],
      {
        kind: 'sandbox-start-wsb',
        path: 'my.wsb',
        isolation: 'process',
        image: 'local/base:1',
        name: undefined,
        quiet: false,
        verbose: false,
      },
    ],
    [
      ['start', 'C:\\cfg\\My.WSB'],
      {
        kind: 'sandbox-start-wsb',
        path: 'C:\\cfg\\My.WSB',
        isolation: undefined,
        image: undefined,
        name: undefined,
        quiet: false,
        verbose: false,
      },
    ],
    [
      ['exec', 'box1', '--', 'cmd', '/c', 'echo', 'hi'],
      {
        kind: 'sandbox-exec',
        name: 'box1',
        command: ['cmd', '/c', 'echo', 'hi'],
        env: {},
        cwd: undefined,
        user: undefined,
        interactive: false,
        tty: false,
      },
    ],
    [
      ['exec', '-e', 'K=V', '-w', 'C:\\w', '--user', 'ContainerAdministrator', '-i', 'box1', '--', 'whoami'],
      {
        kind: 'sandbox-exec',
        name: 'box1',
        command: ['whoami'],
        env: { K: 'V' },
        cwd: 'C:\\w',
        user: 'ContainerAdministrator',
        interactive: true,
        tty: false,
      },
    ],
    [['ls'], { kind: 'sandbox-ls', all: false, json: false, quiet: false }],
    [['list', '--all', '--json'], { kind: 'sandbox-ls', all: true, json: true, quiet: false }],
    [['ls', '-a'], { kind: 'sandbox-ls', all: true, json: false, quiet: false }],
    [['ls', '-aq'], { kind: 'sandbox-ls', all: true, json: false, quiet: true }],
    [['inspect', 'box1'], { kind: 'sandbox-inspect', names: ['box1'], json: false }],
    [['inspect', '--json', 'a', 'b'], { kind: 'sandbox-inspect', names: ['a', 'b'], json: true }],
    [['stop', 'a', 'b'], { kind: 'sandbox-stop', names: ['a', 'b'], timeSeconds: 10 }],
    [['stop', '--time', '0', 'a'], { kind: 'sandbox-stop', names: ['a'], timeSeconds: 0 }],
    [['stop', '-t', '3', 'a'], { kind: 'sandbox-stop', names: ['a'], timeSeconds: 3 }],
    [['kill', 'a', 'b'], { kind: 'sandbox-kill', names: ['a', 'b'] }],
    [['pause', 'a'], { kind: 'sandbox-pause', names: ['a'] }],
    [['resume', 'a'], { kind: 'sandbox-resume', names: ['a'] }],
    [['rm', 'a'], { kind: 'sandbox-rm', names: ['a'], force: false }],
    [['rm', '-f', 'a', 'b'], { kind: 'sandbox-rm', names: ['a', 'b'], force: true }],
    [
      ['cp', 'C:\\host\\a.txt', 'box1:C:\\work\\a.txt'],
      {
        kind: 'sandbox-cp',
        direction: 'in',
        name: 'box1',
        sandboxPath: 'C:\\work\\a.txt',
        hostPath: 'C:\\host\\a.txt',
      },
    ],
    [
      ['cp', 'box1:C:\\work', 'out-dir'],
      { kind: 'sandbox-cp', direction: 'out', name: 'box1', sandboxPath: 'C:\\work', hostPath: 'out-dir' },
    ],
    [
      ['share', 'box1', 'C:\\host\\data', 'C:\\data'],
      {
        kind: 'sandbox-share',
        name: 'box1',
        hostPath: 'C:\\host\\data',
        sandboxPath: 'C:\\data',
        readOnly: false,
      },
    ],
    [
      ['share', '--ro', 'box1', '/srv/data', 'C:\\data'],
      { kind: 'sandbox-share', name: 'box1', hostPath: '/srv/data', sandboxPath: 'C:\\data', readOnly: true },
    ],
    [['logs', 'box1'], { kind: 'sandbox-logs', name: 'box1', follow: false, json: false }],
    [['logs', '-f', 'box1'], { kind: 'sandbox-logs', name: 'box1', follow: true, json: false }],
    [['logs', '--json', 'box1'], { kind: 'sandbox-logs', name: 'box1', follow: false, json: true }],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it('run --isolation vm takes no command: it starts the VM and prints its name', () => {
    expect(parsePlan(['run', '--isolation', 'vm', '-d', 'win'])).toMatchObject({
      kind: 'sandbox-run',
      image: 'win',
      isolation: 'vm',
      command: [],
      detach: true,
    });
  });

  it.each([
    [['run'], /missing required argument 'image'/],
    [['run', 'local/base:1'], /run needs a command after the image/],
    [['run', '--isolation', 'vm', 'win', '--', 'cmd'], /a vm sandbox runs no command yet .*guest agent/],
    [['run', '--isolation', 'vm', '--rm', 'win'], /--rm needs a command/],
    [['run', '--memory', 'lots', 'img', '--', 'x'], /option '--memory <size>' argument 'lots' is invalid/],
    [
      ['run', '--cpus', '0', 'img', '--', 'x'],
      /option '--cpus <n>' argument '0' is invalid\. expected a number/,
    ],
    [['run', '--isolation', 'container', 'img', '--', 'x'], /--isolation expects process, hyperv, vm/],
    [['run', '-e', 'NOEQUALS', 'img', '--', 'x'], /-e expects NAME=VALUE/],
    [['run', '-e', '=v', 'img', '--', 'x'], /-e expects NAME=VALUE/],
    [['run', '-v', 'C:\\only-host', 'img', '--', 'x'], /-v expects HOST:SANDBOX/],
    [['run', '-v', 'C:\\host:data', 'img', '--', 'x'], /-v expects HOST:SANDBOX/],
    [['run', '--rm', '--persistent', 'img', '--', 'x'], /contradict/],
    [['run', '--rm', '-d', 'img', '--', 'x'], /--rm cannot be combined with --detach/],
    [['run', '--bogus', 'img', '--', 'x'], /unknown option '--bogus'/],
    [['run', '-d', '-t', 'img', '--', 'x'], /not with --detach/],
    [['run', '-d', '-i', 'img', '--', 'x'], /not with --detach/],
    [['create'], /missing required argument 'image'/],
    [['create', '--memory', '-1', 'img'], /'--memory <size>' argument '-1' is invalid/],
    [['start'], /missing required argument/],
    [['start', 'a', '--image', 'x'], /--image is only for starting a .wsb file/],
    [['start', 'a', '--isolation', 'process'], /--isolation is only for starting a .wsb file/],
    [['start', 'a.wsb', 'b'], /one .wsb file/],
    [['start', 'a.wsb', '--isolation', 'docker'], /--isolation expects/],
    [['exec', 'box1'], /missing required argument 'command'/],
    [['exec', '-e', 'X', 'box1', '--', 'x'], /-e expects NAME=VALUE/],
    [['inspect'], /missing required argument/],
    [['stop'], /missing required argument/],
    [['stop', '--time', 'soon', 'a'], /whole number/],
    [['stop', '--time', '-1', 'a'], /whole number|unknown option/],
    [['kill'], /missing required argument/],
    [['pause'], /missing required argument/],
    [['resume'], /missing required argument/],
    [['rm'], /missing required argument/],
    [['rm', '--yes', 'a'], /unknown option/],
    [['cp', 'a.txt'], /missing required argument/],
    [['cp', 'a.txt', 'b.txt'], /one side written as SANDBOX:C:\\path/],
    [['cp', 'C:\\a.txt', 'D:\\b.txt'], /one side written as SANDBOX:C:\\path/],
    [['cp', 'a:C:\\x', 'b:C:\\y'], /not between two sandboxes/],
    [['share', 'box1', 'C:\\host'], /missing required argument/],
    [['logs'], /missing required argument/],
  ])('rejects %j', (argv, message) => {
    expect(() => parsePlan(argv)).toThrow(UsageError);
    expect(() => parsePlan(argv)).toThrow(message);
  });

  it('lists the sandbox verbs in the help', () => {
    const help = parsePlan(['--help']);
    expect(help.kind === 'help' && help.text).toMatch(/\brun\b[\s\S]*\bexec\b[\s\S]*\bls\|list\b/);
    expect(help.kind === 'help' && help.text).not.toContain('__detached');
  });
});

describe('sandbox verb helpers', () => {
  it.each([
    ['C:\\host:C:\\box', { hostPath: 'C:\\host', sandboxPath: 'C:\\box', readOnly: false }],
    ['C:\\host:C:\\box:ro', { hostPath: 'C:\\host', sandboxPath: 'C:\\box', readOnly: true }],
    ['C:\\host:C:\\box:RW', { hostPath: 'C:\\host', sandboxPath: 'C:\\box', readOnly: false }],
    ['c:/host/x:c:/box', { hostPath: 'c:/host/x', sandboxPath: 'c:/box', readOnly: false }],
    ['\\\\srv\\share\\d:C:\\d:ro', { hostPath: '\\\\srv\\share\\d', sandboxPath: 'C:\\d', readOnly: true }],
    ['/tmp/data:C:\\data', { hostPath: '/tmp/data', sandboxPath: 'C:\\data', readOnly: false }],
    ['.\\rel:C:\\rel', { hostPath: '.\\rel', sandboxPath: 'C:\\rel', readOnly: false }],
    ['C:\\ro:C:\\ro', { hostPath: 'C:\\ro', sandboxPath: 'C:\\ro', readOnly: false }],
  ])('-v %s', (value, expected) => {
    expect(parseVolume(value)).toEqual(expected);
  });

  it.each([['C:\\box'], [':C:\\box'], ['C:\\host:'], ['C:\\host::ro'], ['host:box'], ['']])(
    'rejects -v %j',
    (value) => {
      expect(() => parseVolume(value)).toThrow(UsageError);
    },
  );

  it('parses -e, cp operands and the command', () => {
    expect(parseEnv(['A=1', 'B=', 'A=2'])).toEqual({ A: '2', B: '' });
    expect(parseCpOperand('box1:C:\\work\\a.txt')).toEqual({ name: 'box1', path: 'C:\\work\\a.txt' });
    expect(parseCpOperand('C:\\work\\a.txt')).toBeUndefined();
    expect(parseCpOperand('Z:\\tmp\\x')).toBeUndefined();
    expect(parseCpOperand('./out')).toBeUndefined();
    expect(commandInput(['cmd /c echo hi'])).toBe('cmd /c echo hi');
    expect(commandInput(['cmd', '/c', 'echo', 'two words'])).toEqual(['cmd', '/c', 'echo', 'two words']);
  });

  it('says how long ago', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    expect(ago('2025-01-01T12:00:00Z', now)).toBe('0 seconds ago');
    expect(ago('2025-01-01T11:59:59Z', now)).toBe('1 second ago');
    expect(ago('2025-01-01T11:58:00Z', now)).toBe('2 minutes ago');
    expect(ago('2024-12-30T12:00:00Z', now)).toBe('2 days ago');
    expect(ago('not a date', now)).toBe('not a date');
  });
});
