/**
 * What kind of failure an error is, for callers that react by kind rather
 * than by class (the CLI maps kinds, never classes, to exit codes):
 * - `not-found`: the named thing (sandbox, image, network, layer) does not exist;
 * - `conflict`: it already exists, or another process holds it;
 * - `invalid-state`: it exists but is in the wrong state (not running, already stopped);
 * - `invalid-argument`: bad input, caught before any native call;
 * - `unavailable`: this machine cannot do it (HCS missing, a function missing on this build);
 * - `host`: Windows refused or failed the request (an HRESULT);
 * - `failure`: anything else we detected (corrupt state, a registry, a format).
 */
export type ErrorKind =
  | 'not-found'
  | 'conflict'
  | 'invalid-state'
  | 'invalid-argument'
  | 'unavailable'
  | 'host'
  | 'failure';

/**
 * The base of every error hcs-sandbox throws on purpose. Errors that come from
 * Windows (HRESULTs) derive from it in `hcs/`; product errors derive from it in
 * `sandbox/`. Callers can test `err instanceof HcsSandboxError` to tell ours from
 * bugs, `err.kind` (or the kind bases below) to react by kind, and `err.code`
 * for the one stable machine-readable name.
 */
export class HcsSandboxError extends Error {
  /** A stable, machine-readable code (e.g. `INVALID_ARGUMENT`), for scripts and `--json`. */
  readonly code: string;
  /** The kind of failure; the kind bases below fix it, other errors are `failure`. */
  get kind(): ErrorKind {
    return 'failure';
  }

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The named thing does not exist. */
export class NotFoundError extends HcsSandboxError {
  override get kind(): ErrorKind {
    return 'not-found';
  }
}

/** The thing already exists, or another process holds it. */
export class ConflictError extends HcsSandboxError {
  override get kind(): ErrorKind {
    return 'conflict';
  }
}

/** The thing exists but is in the wrong state for the request (not running, already stopped). */
export class InvalidStateError extends HcsSandboxError {
  override get kind(): ErrorKind {
    return 'invalid-state';
  }
}

/** This machine cannot do it: HCS is missing, or a function is missing on this Windows build. */
export class UnavailableError extends HcsSandboxError {
  override get kind(): ErrorKind {
    return 'unavailable';
  }
}

/**
 * Bad input, caught before any native call. `field` is the dotted path of the
 * offending option (e.g. `memoryMB`, `mappedFolders[2].sandboxPath`) and
 * `allowed` says in words what would have been accepted.
 */
export class InvalidArgumentError extends HcsSandboxError {
  readonly field: string;
  readonly allowed: string;
  readonly received: unknown;

  override get kind(): ErrorKind {
    return 'invalid-argument';
  }

  constructor(field: string, allowed: string, received: unknown, detail?: string) {
    const shown = describeValue(received);
    super(
      'INVALID_ARGUMENT',
      `Invalid ${field}: expected ${allowed}, got ${shown}${detail ? ` (${detail})` : ''}.`,
    );
    this.field = field;
    this.allowed = allowed;
    this.received = received;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === undefined || value === null || typeof value !== 'object') return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
