import { type ErrorKind, HcsSandboxError, InvalidStateError } from '../internal/errors.js';
import { HR, hresultHex, hresultMeaning, hresultName, toUnsigned } from './hresults.js';

/** One entry of `ResultError.ErrorEvents`. */
export interface HcsErrorEvent {
  Message?: string;
  StackTrace?: string;
  Provider?: string;
  EventId?: number;
  Flags?: number;
  Source?: string;
  Data?: unknown[];
}

/** The `ResultError` document HCS attaches to a failure (all fields optional in practice). */
export interface HcsResultError {
  Error?: number;
  ErrorMessage?: string;
  ErrorEvents?: HcsErrorEvent[];
  Attribution?: unknown[];
}

export interface HcsErrorDetails {
  hresult: number;
  /** The HCS function, e.g. `HcsStartComputeSystem`. */
  operation: string;
  systemId?: string | undefined;
  processId?: number | undefined;
  /** The raw result document, as HCS returned it. */
  document?: string | null | undefined;
  /** Set when hcs-sandbox gave up waiting (its own timeout), not HCS. */
  timedOut?: boolean;
  /** Set when the caller's AbortSignal fired. */
  canceled?: boolean;
  cause?: unknown;
}

// Both the 0x8037xxxx and 0xC037xxxx forms of the same suffix mean the same thing.
const NOT_FOUND = new Set<number>([0x8037010e, 0xc037010e, HR.ERROR_NOT_FOUND]);
const ALREADY_STOPPED = new Set<number>([
  0x80370110,
  0xc0370110,
  HR.HCS_E_PROCESS_ALREADY_STOPPED,
  HR.ERROR_NOT_FOUND,
]);
const ALREADY_EXISTS = new Set<number>([0x8037010f, 0xc037010f]);
const INVALID_STATE = new Set<number>([0x80370105, 0xc0370105]);
const TIMEOUT = new Set<number>([HR.HCS_E_OPERATION_TIMEOUT, 0x80370109, 0xc0370109, HR.ERROR_TIMEOUT]);
const CANCELED = new Set<number>([HR.ERROR_CANCELLED, HR.HCS_E_OPERATION_ALREADY_CANCELLED, HR.E_ABORT]);
const SERVICE_DISCONNECTED = new Set<number>([HR.HCS_E_SERVICE_DISCONNECT]);
const ACCESS_DENIED = new Set<number>([HR.E_ACCESSDENIED, HR.HCS_E_ACCESS_DENIED, 5]);
// hcsshim's IsNotSupported class: HCS reports unknown fields and requests as invalid JSON.
const NOT_SUPPORTED = new Set<number>([
  0x8037010d,
  0xc037010d,
  0x8007000d,
  0x80070032,
  0x8037010b,
  0xc037010b,
  HR.E_NOTIMPL,
]);

/**
 * A failure reported by the Host Compute Service. Carries the HRESULT (with its
 * hex form and name in the message), the HCS function, the system id or pid,
 * and the parsed `ResultError` document when HCS sent one.
 */
export class HcsError extends HcsSandboxError {
  /** The HRESULT as an unsigned 32-bit number (compare with `HR.*` or hex literals). */
  readonly hresult: number;
  readonly hresultHex: string;
  readonly hresultName: string;
  readonly operation: string;
  readonly systemId: string | undefined;
  readonly processId: number | undefined;
  readonly resultError: HcsResultError | undefined;
  readonly document: string | null | undefined;
  readonly timedOut: boolean;
  readonly canceled: boolean;

  /** Windows refused or failed the request: always `host`, even when the HRESULT means not-found (use the predicates). */
  override get kind(): ErrorKind {
    return 'host';
  }

  constructor(details: HcsErrorDetails) {
    const hresult = toUnsigned(details.hresult);
    const resultError = parseResultError(details.document);
    super('HCS_ERROR', formatMessage(details, hresult, resultError), { cause: details.cause });
    this.hresult = hresult;
    this.hresultHex = hresultHex(hresult);
    this.hresultName = hresultName(hresult);
    this.operation = details.operation;
    this.systemId = details.systemId;
    this.processId = details.processId;
    this.resultError = resultError;
    this.document = details.document;
    this.timedOut = details.timedOut ?? false;
    this.canceled = details.canceled ?? false;
  }

  /** The compute system (or process) does not exist. */
  isNotFound(): boolean {
    return NOT_FOUND.has(this.hresult);
  }
  isAlreadyExists(): boolean {
    return ALREADY_EXISTS.has(this.hresult);
  }
  isInvalidState(): boolean {
    return INVALID_STATE.has(this.hresult);
  }
  /** The system or process had already stopped: harmless for stop/kill. */
  isAlreadyStopped(): boolean {
    return ALREADY_STOPPED.has(this.hresult);
  }
  isTimeout(): boolean {
    return this.timedOut || TIMEOUT.has(this.hresult);
  }
  isCanceled(): boolean {
    return this.canceled || CANCELED.has(this.hresult);
  }
  isServiceDisconnected(): boolean {
    return SERVICE_DISCONNECTED.has(this.hresult);
  }
  isAccessDenied(): boolean {
    return ACCESS_DENIED.has(this.hresult);
  }
  isNotSupported(): boolean {
    return NOT_SUPPORTED.has(this.hresult);
  }
}

/** A method was called on a compute system or process handle that is already closed. */
export class HandleClosedError extends InvalidStateError {
  constructor(what: string) {
    super('HANDLE_CLOSED', `${what} has been closed; open it again to use it.`);
  }
}

function parseResultError(document: string | null | undefined): HcsResultError | undefined {
  if (!document) return undefined;
  try {
    const parsed: unknown = JSON.parse(document);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as HcsResultError)
      : undefined;
  } catch {
    return undefined; // an unparsable document leaves the error as the HRESULT alone (hcsshim does the same)
  }
}

function formatMessage(details: HcsErrorDetails, hresult: number, doc: HcsResultError | undefined): string {
  const subject = [
    details.systemId !== undefined ? `system ${JSON.stringify(details.systemId)}` : undefined,
    details.processId !== undefined ? `process ${details.processId}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const head = details.timedOut
    ? `${details.operation} timed out`
    : details.canceled
      ? `${details.operation} was canceled`
      : `${details.operation} failed`;
  const meaning = doc?.ErrorMessage || hresultMeaning(hresult) || 'unknown error';
  const events = (doc?.ErrorEvents ?? [])
    .map((e) => e.Message)
    .filter((m): m is string => typeof m === 'string' && m.length > 0 && m !== doc?.ErrorMessage);
  return (
    `${head}${subject ? ` for ${subject}` : ''}: ${meaning} (${hresultName(hresult)}, ${hresultHex(hresult)})` +
    (events.length ? `. ${events.join('; ')}` : '')
  );
}
