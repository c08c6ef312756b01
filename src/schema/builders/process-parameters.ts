/**
 * `ProcessParameters` for `HcsCreateProcess` (HCS-NOTES §5d), and Windows
 * command-line quoting.
 */
import { InvalidArgumentError } from '../../internal/errors.js';
import type * as Hcs from '../generated/hcs.js';
import { checkArray, checkBoolean, checkGuestPath, checkInteger, checkObject, checkText } from './common.js';

/**
 * Joins an argv array into one Windows command line that `CommandLineToArgvW` and
 * the MSVC runtime split back into exactly the same array.
 *
 * - The program name (argv[0]) is parsed specially by Windows: it ends at the next
 *   quote if it starts with one, else at the first space or tab, and backslashes are
 *   never escapes. It is quoted when it is empty or contains whitespace, and may not
 *   contain a double quote.
 * - Every other argument is left alone unless it is empty or contains a space, tab,
 *   newline, vertical tab or double quote. Then it is wrapped in quotes; each quote
 *   becomes `\"`, backslashes directly before a quote are doubled (plus the one
 *   escaping the quote), and trailing backslashes are doubled so they do not escape
 *   the closing quote. Other backslashes stay as they are.
 *
 * This is not cmd.exe escaping: `cmd /c` applies its own rules (`^`, `%`, `&`, ...)
 * on top, which callers must handle themselves.
 */
export function quoteWindowsArgs(argv: readonly string[]): string {
  checkArray('argv', argv, 1);
  argv.forEach((arg, i) => {
    if (typeof arg !== 'string') throw new InvalidArgumentError(`argv[${i}]`, 'a string', arg);
    if (arg.includes('\0'))
      throw new InvalidArgumentError(`argv[${i}]`, 'a string without NUL characters', arg);
  });
  const [program, ...rest] = argv as [string, ...string[]];
  if (program.includes('"')) {
    throw new InvalidArgumentError(
      'argv[0]',
      'a program path without double quotes',
      program,
      'Windows cannot represent a quote in the program name',
    );
  }
  const first = program === '' || /[ \t\n\v]/.test(program) ? `"${program}"` : program;
  return [first, ...rest.map(quoteArg)].join(' ');
}

function quoteArg(arg: string): string {
  if (arg !== '' && !/[ \t\n\v"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes += 1;
      continue;
    }
    if (ch === '"') {
      out += '\\'.repeat(backslashes * 2 + 1);
      out += '"';
    } else {
      out += '\\'.repeat(backslashes);
      out += ch;
    }
    backslashes = 0;
  }
  out += '\\'.repeat(backslashes * 2);
  return `${out}"`;
}

export interface ProcessParametersOptions {
  /** Program and arguments, quoted with `quoteWindowsArgs`. Exactly one of `argv` or `commandLine`. */
  argv?: string[];
  /** A ready-made command line, sent as is. */
  commandLine?: string;
  /** Optional image path (as CreateProcess's lpApplicationName). */
  applicationName?: string;
  /** Absolute path inside the guest (`C:\` allowed). */
  workingDirectory?: string;
  /** Environment variables (replace the default environment). */
  environment?: Record<string, string>;
  /** Account to run as, e.g. `ContainerUser`, `ContainerAdministrator`, `NT AUTHORITY\SYSTEM`. */
  user?: string;
  /** Run under a pseudo console. stdout then carries the VT stream and there is no stderr. Default false. */
  emulateConsole?: boolean;
  /** Initial pseudo-console size; needs `emulateConsole`. */
  consoleSize?: { height: number; width: number };
  /** Default true. */
  createStdInPipe?: boolean;
  /** Default true. */
  createStdOutPipe?: boolean;
  /** Default true, or false with `emulateConsole` (which cannot have it). */
  createStdErrPipe?: boolean;
  restrictedToken?: boolean;
  /** Create the process in the user's existing interactive session. */
  useExistingLogin?: boolean;
}

export function buildProcessParameters(options: ProcessParametersOptions): Hcs.ProcessParameters {
  checkObject('options', options);
  const o = options;
  if ((o.argv === undefined) === (o.commandLine === undefined)) {
    throw new InvalidArgumentError('argv', 'exactly one of argv or commandLine', {
      argv: o.argv,
      commandLine: o.commandLine,
    });
  }
  const params: Hcs.ProcessParameters = {};
  if (o.applicationName !== undefined)
    params.ApplicationName = checkText('applicationName', o.applicationName);
  params.CommandLine =
    o.argv !== undefined ? quoteWindowsArgs(o.argv) : checkText('commandLine', o.commandLine, { max: 32766 });
  if (params.CommandLine.length > 32766) {
    throw new InvalidArgumentError('argv', 'a command line of at most 32766 characters', params.CommandLine);
  }
  if (o.user !== undefined) params.User = checkText('user', o.user, { max: 256 });
  if (o.workingDirectory !== undefined) {
    params.WorkingDirectory = checkGuestPath('workingDirectory', o.workingDirectory, { allowRoot: true });
  }
  if (o.environment !== undefined) {
    checkObject('environment', o.environment);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(o.environment)) {
      if (name === '' || name.includes('=') || name.includes('\0')) {
        throw new InvalidArgumentError('environment.<name>', 'a variable name without "=" or NUL', name);
      }
      if (typeof value !== 'string' || value.includes('\0')) {
        throw new InvalidArgumentError(`environment.${name}`, 'a string without NUL characters', value);
      }
      env[name] = value;
    }
    params.Environment = env;
  }
  if (o.restrictedToken !== undefined)
    params.RestrictedToken = checkBoolean('restrictedToken', o.restrictedToken);
  if (o.useExistingLogin !== undefined)
    params.UseExistingLogin = checkBoolean('useExistingLogin', o.useExistingLogin);
  const tty = o.emulateConsole === undefined ? false : checkBoolean('emulateConsole', o.emulateConsole);
  params.EmulateConsole = tty;
  if (o.consoleSize !== undefined) {
    if (!tty)
      throw new InvalidArgumentError('consoleSize', 'absent unless emulateConsole is true', o.consoleSize);
    checkObject('consoleSize', o.consoleSize);
    // ProcessParameters.ConsoleSize is [height, width] (uint16 each).
    params.ConsoleSize = [
      checkInteger('consoleSize.height', o.consoleSize.height, 1, 65535),
      checkInteger('consoleSize.width', o.consoleSize.width, 1, 65535),
    ];
  }
  params.CreateStdInPipe =
    o.createStdInPipe === undefined ? true : checkBoolean('createStdInPipe', o.createStdInPipe);
  params.CreateStdOutPipe =
    o.createStdOutPipe === undefined ? true : checkBoolean('createStdOutPipe', o.createStdOutPipe);
  const stderr =
    o.createStdErrPipe === undefined ? !tty : checkBoolean('createStdErrPipe', o.createStdErrPipe);
  if (stderr && tty) {
    throw new InvalidArgumentError(
      'createStdErrPipe',
      'false when emulateConsole is true (the pseudo console merges stderr into stdout)',
      true,
    );
  }
  params.CreateStdErrPipe = stderr;
  return params;
}
