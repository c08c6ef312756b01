import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { EXIT, exitCodeOf } from '../../../src/cli/exit-codes.js';
import { CliError, eachName } from '../../../src/cli/format.js';
import {
  ConflictError,
  type ErrorKind,
  HcsSandboxError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  UnavailableError,
} from '../../../src/internal/errors.js';

/** An error of any kind, whatever its class: the mapping must not care which class. */
class KindError extends HcsSandboxError {
  constructor(private readonly fixedKind: ErrorKind) {
    super('TEST', `a ${fixedKind} error`);
  }
  override get kind(): ErrorKind {
    return this.fixedKind;
  }
}

describe('exitCodeOf', () => {
  it.each<[ErrorKind, number]>([
    ['unavailable', 3],
    ['host', 4],
    ['invalid-argument', 5],
    // 1 until the move to Docker's 125/126/127 scheme.
    ['not-found', 1],
    ['conflict', 1],
    ['invalid-state', 1],
    ['failure', 1],
  ])('kind %s -> %i', (kind, code) => {
    expect(exitCodeOf(new KindError(kind))).toBe(code);
  });

  it('maps the kind bases of internal/errors', () => {
    expect(exitCodeOf(new UnavailableError('X', 'x'))).toBe(EXIT.unavailable);
    expect(exitCodeOf(new InvalidArgumentError('memoryMB', 'a number', 'lots'))).toBe(EXIT.invalid);
    expect(exitCodeOf(new NotFoundError('X', 'x'))).toBe(EXIT.failure);
    expect(exitCodeOf(new ConflictError('X', 'x'))).toBe(EXIT.failure);
    expect(exitCodeOf(new InvalidStateError('X', 'x'))).toBe(EXIT.failure);
  });

  it('follows the kind, not the class a subclass derives from', () => {
    class HostArgumentError extends InvalidArgumentError {
      override get kind(): ErrorKind {
        return 'host';
      }
    }
    expect(exitCodeOf(new HostArgumentError('f', 'g', 'h'))).toBe(EXIT.host);
  });

  it('gives bad usage 2, other errors of ours 1, and anything else 1', () => {
    expect(exitCodeOf(new UsageError('no such option'))).toBe(EXIT.usage);
    expect(exitCodeOf(new CliError('ENOENT', 'x: no such file or folder.'))).toBe(EXIT.failure);
    expect(exitCodeOf(new HcsSandboxError('X', 'x'))).toBe(EXIT.failure);
    expect(exitCodeOf(new TypeError('bug'))).toBe(EXIT.failure);
    expect(exitCodeOf('a string')).toBe(EXIT.failure);
    expect(exitCodeOf(undefined)).toBe(EXIT.failure);
  });
});

describe('eachName', () => {
  it('prints each failure and returns the code of the last one, by the same mapping', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (s: string) => void err.push(s) };
    const failures: Record<string, Error> = {
      a: new KindError('unavailable'),
      c: new InvalidArgumentError('name', 'a name', ''),
    };
    const code = await eachName(io, ['a', 'b', 'c'], async (name) => {
      const failure = failures[name];
      if (failure) throw failure;
    });
    expect(code).toBe(EXIT.invalid);
    expect(err).toEqual([
      'hcs-sandbox: a unavailable error\n',
      'hcs-sandbox: Invalid name: expected a name, got "".\n',
    ]);
  });
});
