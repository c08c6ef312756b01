import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { quoteWindowsArgs } from '../../../src/schema/index.js';

/**
 * Reference splitter implementing CommandLineToArgvW / MSVC runtime rules
 * (documented in "Parsing C++ command-line arguments", Microsoft Learn):
 * - argv[0]: if it starts with a quote, up to the next quote; else up to the
 *   first space or tab. No escapes.
 * - later args: whitespace separates outside quotes; 2n backslashes + quote →
 *   n backslashes and the quote toggles quoting; 2n+1 backslashes + quote → n
 *   backslashes and a literal quote; backslashes not before a quote are literal;
 *   inside quotes, "" is a literal quote.
 */
function splitWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  let first = '';
  if (line[0] === '"') {
    const end = line.indexOf('"', 1);
    first = end === -1 ? line.slice(1) : line.slice(1, end);
    i = end === -1 ? line.length : end + 1;
  } else {
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') first += line[i++];
  }
  args.push(first);
  const ws = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v';
  for (;;) {
    while (ws(line[i])) i++;
    if (i >= line.length) break;
    let arg = '';
    let quoted = false;
    while (i < line.length && (quoted || !ws(line[i]))) {
      let n = 0;
      while (line[i] === '\\') {
        n++;
        i++;
      }
      if (line[i] === '"') {
        arg += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) {
          arg += '"';
          i++;
        } else if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
      } else {
        arg += '\\'.repeat(n);
        if (i < line.length && (quoted || !ws(line[i]))) arg += line[i++];
      }
    }
    args.push(arg);
  }
  return args;
}

const CASES: Array<[string[], string]> = [
  [['cmd.exe'], 'cmd.exe'],
  [['cmd.exe', '/c', 'dir'], 'cmd.exe /c dir'],
  [['C:\\Program Files\\app.exe', 'x'], '"C:\\Program Files\\app.exe" x'],
  [['', 'x'], '"" x'],
  [['a', ''], 'a ""'],
  [['a', 'hello world'], 'a "hello world"'],
  [['a', 'tab\there'], 'a "tab\there"'],
  [['a', 'new\nline'], 'a "new\nline"'],
  [['a', 'say "hi"'], 'a "say \\"hi\\""'],
  [['a', '"'], 'a "\\""'],
  [['a', 'no"space'], 'a "no\\"space"'],
  [['a', 'C:\\dir\\'], 'a C:\\dir\\'],
  [['a', 'C:\\dir with space\\'], 'a "C:\\dir with space\\\\"'],
  [['a', 'C:\\a b\\\\'], 'a "C:\\a b\\\\\\\\"'],
  [['a', 'back\\"quote'], 'a "back\\\\\\"quote"'],
  [['a', 'back\\\\"quote'], 'a "back\\\\\\\\\\"quote"'],
  [['a', '\\\\server\\share'], 'a \\\\server\\share'],
  [['a', 'x\\y z'], 'a "x\\y z"'],
  [['a', '&|<>^%'], 'a &|<>^%'],
  [['a', 'ünïcødé ✓'], 'a "ünïcødé ✓"'],
  [['C:\\dir\\', 'x'], 'C:\\dir\\ x'],
  [['C:\\my dir\\', 'x'], '"C:\\my dir\\" x'],
];

describe('quoteWindowsArgs', () => {
  it.each(CASES)('%j → %s', (argv, expected) => {
    expect(quoteWindowsArgs(argv)).toBe(expected);
    expect(splitWindowsCommandLine(expected)).toEqual(argv);
  });

  it('round-trips through the CommandLineToArgvW rules for random arguments', () => {
    const alphabet = ['a', 'Z', '0', ' ', '\t', '"', '\\', '\\', '\\', '/', '&', 'é', '\n', '\v', "'", '^'];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      const argc = 1 + rand(5);
      const argv = ['prog.exe'];
      for (let j = 0; j < argc; j++) {
        let s = '';
        const len = rand(8);
        for (let k = 0; k < len; k++) s += alphabet[rand(alphabet.length)];
        argv.push(s);
      }
      const line = quoteWindowsArgs(argv);
      expect(splitWindowsCommandLine(line), line).toEqual(argv);
    }
  });

  it('round-trips random program names without quotes', () => {
    const alphabet = ['a', ' ', '\\', 'C', ':', '.', '\t'];
    for (let round = 0; round < 500; round++) {
      let prog = '';
      for (let k = 0; k < (round % 9) + 1; k++) prog += alphabet[(round * 7 + k * 3) % alphabet.length];
      const argv = [prog, 'x'];
      expect(splitWindowsCommandLine(quoteWindowsArgs(argv))).toEqual(argv);
    }
  });

  it.each([
    [[], 'argv'],
    [['a"b.exe'], 'argv[0]'],
    [['a', 'nul\0byte'], 'argv[1]'],
    [['a', 42 as unknown as string], 'argv[1]'],
  ] as Array<[string[], string]>)('rejects %j (field %s)', (argv, field) => {
    let err: unknown;
    try {
      quoteWindowsArgs(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });
});
