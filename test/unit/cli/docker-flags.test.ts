import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { sandboxOptions } from '../../../src/cli/commands/sandbox-spec.js';
import { buildProgram, globalFlags, parsePlan, UsageError } from '../../../src/cli/plan.js';
import { loadSdk } from '../../../src/cli/sdk.js';
import { cpusOption, parseSize } from '../../../src/cli/units.js';

// Flag parsers that read units or lists through the SDK need it loaded (main.ts's readPlan does this).
beforeAll(loadSdk);

type RunPlan = Extract<ReturnType<typeof parsePlan>, { kind: 'sandbox-run' }>;
const run = (...flags: string[]) => parsePlan(['run', ...flags, 'img', '--', 'x']) as RunPlan;

describe('sizes, as docker and the SDK write them', () => {
  it.each([
    ['512m', 'bytes', 512 * 2 ** 20],
    ['2g', 'bytes', 2 * 2 ** 30],
    ['1.5G', 'bytes', 1.5 * 2 ** 30],
    ['64k', 'bytes', 65536],
    ['100b', 'bytes', 100],
    ['512MiB', 'bytes', 512 * 2 ** 20],
    ['500MB', 'bytes', 500e6],
    ['1048576', 'bytes', 1048576],
    ['2048', 'MB', 2048 * 2 ** 20],
    ['2g', 'MB', 2 * 2 ** 30],
  ] as const)('%s (bare number = %s) -> %i bytes', (text, bare, bytes) => {
    expect(parseSize(text, bare)).toBe(bytes);
  });

  it.each(['lots', '', '-1', '5x', '1.5 parsecs'])('refuses %j', (text) => {
    expect(() => parseSize(text)).toThrow(UsageError);
  });
});

describe("docker's flags on run and create", () => {
  it('--memory takes docker units and still whole MB', () => {
    expect(run('--memory', '512m').memoryMB).toBe(512);
    expect(run('--memory', '2g').memoryMB).toBe(2048);
    expect(run('--memory', '2048').memoryMB).toBe(2048);
    expect(run('--memory', '1GiB').memoryMB).toBe(1024);
    expect(() => run('--memory', '1000k')).toThrow(
      /'--memory <size>' argument '1000k' is invalid\. expected a whole number of MB/,
    );
  });

  it('--cpus: a whole number is a processor count, a fraction a CPU cap of the host', () => {
    expect(run('--cpus', '2').cpus).toBe(2);
    expect(run('--cpus', '1.5').cpus).toBe(1.5);
    expect(cpusOption(2, 8)).toEqual({ cpus: 2 });
    expect(cpusOption(1.5, 8)).toEqual({ cpuLimit: 18.75 });
    expect(cpusOption(0.01, 64)).toEqual({ cpuLimit: 1 });
    expect(cpusOption(9.5, 8)).toEqual({ cpuLimit: 100 });
    const options = sandboxOptions(run('--cpus', '0.5'), false, true);
    expect(options.cpus).toBeUndefined();
    expect(options.cpuLimit).toBeGreaterThan(0);
  });

  it('--cpu-percent (and its older name --cpu-limit), --io-maxiops, --io-maxbandwidth, --hostname, --storage-opt', () => {
    const plan = run(
      '--cpu-percent',
      '25',
      '--io-maxiops',
      '500',
      '--io-maxbandwidth',
      '50m',
      '--hostname',
      'web1',
      '--storage-opt',
      'size=40G',
    );
    expect(plan).toMatchObject({
      cpuLimit: 25,
      ioMaxIops: 500,
      ioMaxBandwidth: 50 * 2 ** 20,
      hostname: 'web1',
      scratchSizeGB: 40,
    });
    expect(sandboxOptions(plan, false, true)).toMatchObject({
      cpuLimit: 25,
      ioMaxIops: 500,
      ioMaxBandwidth: 50 * 2 ** 20,
      hostName: 'web1',
      scratchSizeGB: 40,
    });
    expect(run('--cpu-limit', '30%').cpuLimit).toBe(30);
    expect(parsePlan(['create', '--storage-opt', 'size=1g', 'img'])).toMatchObject({ scratchSizeGB: 1 });
  });

  it.each([
    [
      ['--cpu-percent', '0'],
      /'--cpu-percent <pct>' argument '0' is invalid\. expected a percentage from 1 to 100/,
    ],
    [['--cpu-percent', '10', '--cpu-limit', '10'], /the same setting/],
    [['--io-maxiops', 'many'], /'--io-maxiops <n>' argument 'many' is invalid/],
    [['--io-maxbandwidth', 'fast'], /'--io-maxbandwidth <size>' argument 'fast' is invalid/],
    [['--storage-opt', 'dm.basesize=20G'], /only size=SIZE is supported/],
    [['--storage-opt', 'size=1500m'], /size= expects whole GB/],
    [
      ['--pull', 'sometimes'],
      /'--pull <policy>' argument 'sometimes' is invalid\. expected missing, always, never/,
    ],
  ])('refuses %j naming the flag', (flags, message) => {
    expect(() => run(...flags)).toThrow(UsageError);
    expect(() => run(...flags)).toThrow(message);
  });

  it('--pull missing (default), always, never; --verbose', () => {
    expect(run().pull).toBe('missing');
    expect(run('--pull', 'always').pull).toBe('always');
    expect(parsePlan(['create', '--pull', 'never', 'img'])).toMatchObject({ pull: 'never' });
    expect(run('--verbose')).toMatchObject({ verbose: true, quiet: false });
  });

  it('update --memory takes the same sizes, --cpu-percent the same percentages', () => {
    expect(parsePlan(['update', 'web', '--memory', '1g', '--cpu-percent', '40'])).toEqual({
      kind: 'update',
      name: 'web',
      memoryMB: 1024,
      cpus: undefined,
      cpuLimit: 40,
    });
  });

  it('job run --memory shares the parser: docker units too', () => {
    expect(parsePlan(['job', 'run', '--memory', '512m', '--', 'x'])).toMatchObject({
      limits: { processMemory: 512 * 2 ** 20 },
    });
  });

  it('ls -q lists names only; not with --json', () => {
    expect(parsePlan(['ls', '-q'])).toEqual({ kind: 'sandbox-ls', all: false, json: false, quiet: true });
    expect(() => parsePlan(['ls', '-q', '--json'])).toThrow(/-q and --json/);
  });
});

describe('the program: version, help, usage errors, completion', () => {
  it('--version and -V print the package version', () => {
    for (const flag of ['--version', '-V']) {
      const plan = parsePlan([flag]);
      expect(plan).toEqual({ kind: 'help', text: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    }
  });

  it('groups the verbs and shows no false or [] defaults anywhere', () => {
    const plan = parsePlan(['--help']);
    const text = plan.kind === 'help' ? plan.text : '';
    const headings = text.split('\n').filter((l) => /^[A-Z][a-z]+:$/.test(l));
    expect(headings).toEqual(['Options:', 'Sandboxes:', 'Images:', 'Networks:', 'Jobs:', 'Host:']);
    expect(text).toContain("Run 'hcs-sandbox VERB --help'");
    const program = buildProgram(
      () => {},
      () => {},
    );
    const all: Command[] = [];
    const walk = (c: Command) => {
      all.push(c);
      c.commands.forEach(walk);
    };
    walk(program);
    for (const command of all) {
      const help = command.helpInformation();
      expect(help, command.name()).not.toMatch(/\(default: (false|\[\])\)/);
      if (command.name() === '__detached') continue;
      for (const arg of command.registeredArguments)
        expect(arg.description, `${command.name()} <${arg.name()}>`).not.toBe('');
    }
  });

  it('a usage error names the verb, for a hint to its own help', () => {
    const caught = (argv: string[]) => {
      try {
        parsePlan(argv);
      } catch (error) {
        return error as UsageError;
      }
      throw new Error('no error');
    };
    expect(caught(['run', '--bogus', 'img', '--', 'x']).verb).toBe('run');
    expect(caught(['image', 'pull', 'x', '--bogus']).verb).toBe('image pull');
    expect(caught(['list', '--bogus']).verb).toBe('ls');
    expect(caught(['run', '-e', 'X', 'img', '--', 'x']).verb).toBe('run');
    expect(caught(['nosuch']).verb).toBeUndefined();
  });

  it('--debug and --json are read before the command; --debug is not a verb flag', () => {
    expect(globalFlags(['ls', '--json', '--debug'])).toEqual({ json: true, debug: true });
    expect(globalFlags(['exec', 'b', '--', 'tool', '--json'])).toEqual({ json: false, debug: false });
    expect(parsePlan(['ls', '--debug'])).toMatchObject({ kind: 'sandbox-ls' });
    expect(parsePlan(['exec', 'b', '--', 'tool', '--debug'])).toMatchObject({ command: ['tool', '--debug'] });
  });

  it('completion scripts list every verb and flag, from the program', () => {
    const bash = parsePlan(['completion', 'bash']);
    const ps = parsePlan(['completion', 'powershell']);
    if (bash.kind !== 'completion' || ps.kind !== 'completion') throw new Error('not a completion plan');
    expect(bash.script).toContain('complete -o default -F _hcs_sandbox_completion hcs-sandbox');
    expect(bash.script).toMatch(/'\/run'\) words='[^']*--memory[^']*--storage-opt/);
    expect(bash.script).toContain("'/image/list') path='/image/ls'");
    expect(bash.script).not.toContain('__detached');
    expect(ps.script).toContain('Register-ArgumentCompleter -Native -CommandName hcs-sandbox');
    expect(ps.script).toMatch(/'\/image' = @\('ls', 'list', 'pull'/);
    expect(() => parsePlan(['completion', 'fish'])).toThrow(/expected bash or powershell/);
  });
});
