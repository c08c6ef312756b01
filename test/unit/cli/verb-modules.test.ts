import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { modulesFor, parsePlan, verbNamed } from '../../../src/cli/plan.js';

// parsePlan registers only the module that owns the verb argv names (issue 16,
// cold start). These tests hold that shortcut to what registering everything gives.

/** Every top-level name (and alias) `register` adds for `module`. */
function registered(module: (typeof COMMANDS)[number]): string[] {
  const program = new Command('probe');
  module.register(program, () => undefined);
  return program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

/** The plan parsePlan gives, or its error (name and message): what a user sees. */
function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    return {
      name: (error as Error).name,
      message: (error as Error).message,
      verb: (error as { verb?: string }).verb,
    };
  }
}

describe('one module per verb', () => {
  it.each(COMMANDS.map((m) => [m.kinds[0], m] as const))(
    '%s declares exactly the verbs it registers',
    (_, module) => {
      expect([...module.verbs].sort()).toEqual(registered(module).sort());
    },
  );

  it('no verb belongs to two modules', () => {
    const all = COMMANDS.flatMap((m) => m.verbs);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('verbNamed', () => {
  it('is the first operand, skipping program options and their values', () => {
    expect(verbNamed(['ls', '-a'])).toBe('ls');
    expect(verbNamed(['-H', 'http://h:1', 'ls'])).toBe('ls');
    expect(verbNamed(['--host', 'http://h:1', '--token-file', 't', 'exec', 'x'])).toBe('exec');
    expect(verbNamed(['--host=http://h:1', 'rm', 'x'])).toBe('rm');
    expect(verbNamed(['--debug', 'image', 'pull', 'x'])).toBe('image');
  });

  it('is none for flags alone, or operands after --', () => {
    expect(verbNamed([])).toBeUndefined();
    expect(verbNamed(['--help'])).toBeUndefined();
    expect(verbNamed(['-H', 'http://h:1'])).toBeUndefined();
    expect(verbNamed(['--', 'ls'])).toBeUndefined();
  });
});

describe('modulesFor', () => {
  it("registers only the verb's owner for a known verb or alias", () => {
    expect(modulesFor(['ls'])).toEqual([COMMANDS.find((m) => m.verbs.includes('ls'))]);
    expect(modulesFor(['list'])).toEqual(modulesFor(['ls']));
    expect(modulesFor(['remove', 'x'])).toEqual([COMMANDS.find((m) => m.verbs.includes('rm'))]);
  });

  it('registers nothing for --version alone', () => {
    expect(modulesFor(['--version'])).toEqual([]);
    expect(modulesFor(['-V'])).toEqual([]);
    expect(modulesFor(['-V', '--help'])).toBe(COMMANDS);
  });

  it('registers everything for no verb, an unknown verb, help, or completion', () => {
    expect(modulesFor([])).toBe(COMMANDS);
    expect(modulesFor(['--help'])).toBe(COMMANDS);
    expect(modulesFor(['lss'])).toBe(COMMANDS);
    expect(modulesFor(['help', 'ls'])).toBe(COMMANDS);
    expect(modulesFor(['completion', 'bash'])).toBe(COMMANDS);
  });
});

describe('a routed parse gives what a parse with every verb gives', () => {
  const lines = [
    ['ls', '-a'],
    ['ls', '-q'],
    ['list', '--json'],
    ['ls', '--bogus'],
    ['ls', '--help'],
    ['inspect', 'a', 'b'],
    ['logs', 'box'],
    ['rm', '-f', 'a'],
    ['stop', 'box', '--time', '5'],
    ['kill', 'box'],
    ['cp', 'box:C:\\x', './x'],
    ['exec', 'box', '--', 'cmd', '/c', 'echo', 'hi'],
    ['exec', 'box'],
    ['run', 'img', '--help'],
    ['image', 'ls'],
    ['image', 'pul', 'x'],
    ['vm', 'image', 'ls', '--json'],
    ['network', 'ls'],
    ['job', '--help'],
    ['doctor', '--json'],
    ['gc', '--dry-run'],
    ['stats', '--no-stream', 'box'],
    ['version'],
    ['completion', 'bash'],
    ['-H', 'http://127.0.0.1:1', 'ls'],
    ['--token-file', 't', 'ls', '-a'],
    ['--version'],
    ['-V'],
    ['--bogus', '--version'],
    ['--version', '--bogus'],
    ['--version', '--help'],
    ['--debug', '-V'],
  ];
  it.each(lines.map((argv) => [argv.join(' '), argv] as const))('%s', (_, argv) => {
    expect(outcome(() => parsePlan(argv))).toEqual(outcome(() => parsePlan(argv, COMMANDS)));
  });
});
