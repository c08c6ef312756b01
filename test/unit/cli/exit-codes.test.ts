import { beforeAll, describe, expect, it } from 'vitest';
import { cliError, fileError } from '../../../src/cli/cli-error.js';
import { UsageError } from '../../../src/cli/command.js';
import { EXIT, exitCodeOf, exitSchemeOf } from '../../../src/cli/exit-codes.js';
import { eachName } from '../../../src/cli/format.js';
import { errorText, jsonError, messageChain } from '../../../src/cli/report.js';
import { loadSdk } from '../../../src/cli/sdk.js';
import { HcsError } from '../../../src/hcs/index.js';
import {
  ConflictError,
  type ErrorKind,
  HcsSandboxError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  UnavailableError,
} from '../../../src/internal/errors.js';
import { Win32CallError } from '../../../src/jobs/index.js';

// Flag parsers that read units or lists through the SDK need it loaded (main.ts's readPlan does this).
beforeAll(loadSdk);

/** An error of any kind, whatever its class: the mapping must not care which class. */
class KindError extends HcsSandboxError {
  constructor(private readonly fixedKind: ErrorKind) {
    super('TEST', `a ${fixedKind} error`);
  }
  override get kind(): ErrorKind {
    return this.fixedKind;
  }
}

const KINDS: ErrorKind[] = [
  'unavailable',
  'host',
  'invalid-argument',
  'not-found',
  'conflict',
  'invalid-state',
  'failure',
];

const createProcess = (hresult: number) =>
  new HcsError({ hresult, operation: 'HcsCreateProcess', systemId: 'hcssb-x' });

describe('exitCodeOf, a verb that does not run a command (docker: 1 for every failure)', () => {
  it.each(KINDS)('kind %s -> 1', (kind) => {
    expect(exitCodeOf(new KindError(kind))).toBe(EXIT.failure);
  });

  it('maps the kind bases of internal/errors', () => {
    for (const error of [
      new UnavailableError('X', 'x'),
      new InvalidArgumentError('memoryMB', 'a number', 'lots'),
      new NotFoundError('X', 'x'),
      new ConflictError('X', 'x'),
      new InvalidStateError('X', 'x'),
    ])
      expect(exitCodeOf(error, 'verb')).toBe(1);
  });

  it('gives bad usage 2, other errors of ours 1, and anything else 1', () => {
    expect(exitCodeOf(new UsageError('no such option'))).toBe(EXIT.usage);
    expect(exitCodeOf(cliError('ENOENT', 'x: no such file or folder.'))).toBe(EXIT.failure);
    expect(exitCodeOf(new HcsSandboxError('X', 'x'))).toBe(EXIT.failure);
    expect(exitCodeOf(new TypeError('bug'))).toBe(EXIT.failure);
    expect(exitCodeOf('a string')).toBe(EXIT.failure);
    expect(exitCodeOf(undefined)).toBe(EXIT.failure);
  });
});

describe("the CLI's own errors", () => {
  it('are one CliError class of the SDK family, made once the SDK is loaded', async () => {
    const a = cliError('X', 'x');
    const b = (await fileError(Object.assign(new Error('open'), { code: 'ENOENT' }), 'C:\\missing')) as Error;
    expect(a).toBeInstanceOf(HcsSandboxError);
    expect(a.name).toBe('CliError');
    expect(b.constructor).toBe(a.constructor);
    expect(b).toMatchObject({ code: 'ENOENT', message: 'C:\\missing: no such file or folder.' });
  });

  it('leave an error that is not a file error as it is', async () => {
    const bug = new TypeError('bug');
    expect(await fileError(bug, 'x')).toBe(bug);
  });
});

describe('exitCodeOf, a verb that runs a command (run, exec: docker 125/126/127)', () => {
  it.each(KINDS)('kind %s -> 125', (kind) => {
    expect(exitCodeOf(new KindError(kind), 'command')).toBe(125);
  });

  it('gives bad usage and anything unexpected 125 too, never a code the command could return', () => {
    expect(exitCodeOf(new UsageError('no such option'), 'command')).toBe(EXIT.toolFailed);
    expect(exitCodeOf(new TypeError('bug'), 'command')).toBe(EXIT.toolFailed);
  });

  it.each([
    [0x80070002, 127], // ERROR_FILE_NOT_FOUND
    [0x80070003, 127], // ERROR_PATH_NOT_FOUND
    [0x80070005, 126], // ERROR_ACCESS_DENIED
    [0x800700c1, 126], // ERROR_BAD_EXE_FORMAT
    [0x8037010e, 125], // HCS_E_SYSTEM_NOT_FOUND: the sandbox, not the program
  ])('HcsCreateProcess failing with %s -> %i', (hresult, code) => {
    expect(exitCodeOf(createProcess(hresult), 'command')).toBe(code);
    // Wrapped by a layer above: the cause chain is searched.
    expect(exitCodeOf(new HcsSandboxError('X', 'x', { cause: createProcess(hresult) }), 'command')).toBe(
      code,
    );
  });

  it('only a failed process start is 126/127: the same HRESULT elsewhere is the tool failing', () => {
    const elsewhere = new HcsError({ hresult: 0x80070002, operation: 'HcsCreateComputeSystem' });
    expect(exitCodeOf(elsewhere, 'command')).toBe(125);
    expect(exitCodeOf(createProcess(0x80070002), 'verb')).toBe(1);
  });

  it('job run: CreateProcessW failing with file not found -> 127, access denied -> 126', () => {
    expect(exitCodeOf(new Win32CallError('CreateProcessW', 2), 'command')).toBe(127);
    expect(exitCodeOf(new Win32CallError('CreateProcessW', 5), 'command')).toBe(126);
    expect(exitCodeOf(new Win32CallError('SetInformationJobObject', 87), 'command')).toBe(125);
  });
});

describe('exitSchemeOf', () => {
  it.each([
    ['sandbox-run', undefined, 'command'],
    ['sandbox-exec', undefined, 'command'],
    ['raw-run', undefined, 'command'],
    ['job-run', undefined, 'command'],
    ['sandbox-start-wsb', undefined, 'command'],
    ['sandbox-create', undefined, 'verb'],
    ['sandbox-ls', undefined, 'verb'],
    [undefined, 'run', 'command'],
    [undefined, 'job run', 'command'],
    [undefined, 'image pull', 'verb'],
    [undefined, undefined, 'verb'],
  ])('plan %s, verb %s -> %s', (kind, verb, scheme) => {
    expect(exitSchemeOf(kind, verb)).toBe(scheme);
  });
});

describe('how an error reads', () => {
  const fetchFailed = new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  });

  it('as JSON: {"error":{"code","kind","message"}}', () => {
    expect(jsonError(new NotFoundError('SANDBOX_NOT_FOUND', 'No sandbox named "x".'))).toEqual({
      error: { code: 'SANDBOX_NOT_FOUND', kind: 'not-found', message: 'No sandbox named "x".' },
    });
    expect(jsonError(new UsageError("unknown option '--bogus'"))).toEqual({
      error: { code: 'USAGE', kind: 'usage', message: "unknown option '--bogus'" },
    });
    expect(jsonError(fetchFailed)).toEqual({
      error: {
        code: 'UNEXPECTED',
        kind: 'failure',
        message: 'fetch failed: connect ECONNREFUSED 127.0.0.1:1',
      },
    });
    expect(jsonError(Object.assign(new Error('open x'), { code: 'ENOENT' })).error.code).toBe('ENOENT');
  });

  it('a cause chain in one line, an AggregateError listing each try', () => {
    const aggregate = new TypeError('fetch failed', {
      cause: new AggregateError([
        new Error('connect ECONNREFUSED ::1:5'),
        new Error('connect ECONNREFUSED 127.0.0.1:5'),
      ]),
    });
    expect(messageChain(aggregate)).toBe(
      'fetch failed: connect ECONNREFUSED ::1:5, connect ECONNREFUSED 127.0.0.1:5',
    );
    expect(messageChain('text')).toBe('text');
  });

  it('one line and no stack for a network error; the stack only with --debug', () => {
    expect(errorText(fetchFailed, false)).toBe(
      'hcs-sandbox: fetch failed: connect ECONNREFUSED 127.0.0.1:1\n',
    );
    expect(errorText(fetchFailed, true)).toMatch(
      /^hcs-sandbox: fetch failed: .*\nTypeError: fetch failed\n\s+at /,
    );
    const bug = errorText(new RangeError('oops'), false);
    expect(bug).toBe('hcs-sandbox: unexpected error: RangeError: oops (--debug shows where)\n');
  });

  it("points a usage error to the verb's own help", () => {
    const usage = new UsageError("unknown option '--bogus'");
    expect(errorText(usage, false)).toBe(
      "hcs-sandbox: unknown option '--bogus'\nRun 'hcs-sandbox --help' for usage.\n",
    );
    usage.verb = 'image pull';
    expect(errorText(usage, false)).toContain("Run 'hcs-sandbox image pull --help' for usage.");
  });
});

describe('eachName', () => {
  it('prints each failure and returns the code of the last one, by the same mapping', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (s: string) => void err.push(s) };
    const failures: Record<string, Error> = {
      a: new KindError('unavailable'),
      c: new UsageError('bad'),
    };
    const code = await eachName(io, ['a', 'b', 'c'], async (name) => {
      const failure = failures[name];
      if (failure) throw failure;
    });
    expect(code).toBe(EXIT.usage);
    expect(err).toEqual(['hcs-sandbox: a unavailable error\n', 'hcs-sandbox: bad\n']);
  });
});
