/**
 * The base of every error hcs-sandbox throws on purpose. Errors that come from
 * Windows (HRESULTs) derive from it in `hcs/`; product errors derive from it in
 * `sandbox/`. Callers can test `err instanceof HcsSandboxError` to tell ours from
 * bugs.
 */
export class HcsSandboxError extends Error {
  /** A stable, machine-readable code (e.g. `INVALID_ARGUMENT`), for scripts and `--json`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
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
