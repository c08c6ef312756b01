import {
  ConflictError,
  type ErrorKind,
  HcsSandboxError,
  InvalidArgumentError,
  NotFoundError,
} from '../internal/errors.js';
import { HCN, HCN_HRESULTS, hcnHresultHex, hcnHresultName } from './hresults.js';

/** The `ErrorRecord` HCN returns: `{ErrorCode, Error, Success}` where parsable (NanaBox reads those two). */
export interface HcnErrorRecord {
  ErrorCode?: number;
  Error?: string;
  Success?: boolean;
  [key: string]: unknown;
}

export interface HcnErrorDetails {
  hresult: number;
  /** The HCN function, e.g. `HcnCreateEndpoint`. */
  operation: string;
  /** What it was about, e.g. `network "hcs-sandbox-nat"`. */
  subject?: string | undefined;
  /** The ErrorRecord text as HCN returned it. */
  errorRecord?: string | null | undefined;
}

const SERVICE_DOWN = new Set<number>([
  HCN.MANAGER_STOPPED,
  HCN.ERROR_SERVICE_NOT_ACTIVE,
  HCN.RPC_S_SERVER_UNAVAILABLE,
  HCN.EPT_S_NOT_REGISTERED,
]);

/**
 * A failure reported by the Host Compute Network. Carries the HRESULT (name
 * and hex in the message), the HCN function, the parsed ErrorRecord, and for
 * known host problems a `hint` that says what to do.
 */
export class HcnError extends HcsSandboxError {
  readonly hresult: number;
  readonly hresultHex: string;
  readonly hresultName: string;
  readonly operation: string;
  readonly subject: string | undefined;
  readonly errorRecord: HcnErrorRecord | undefined;
  readonly errorRecordText: string | null | undefined;
  readonly hint: string | undefined;

  /** Windows refused or failed the request: always `host`, even when the HRESULT means not-found (use the predicates). */
  override get kind(): ErrorKind {
    return 'host';
  }

  constructor(details: HcnErrorDetails) {
    const hresult = details.hresult >>> 0;
    const record = parseErrorRecord(details.errorRecord);
    const hint = hintFor(hresult);
    const meaning =
      record?.Error ||
      (details.errorRecord && !record ? details.errorRecord : undefined) ||
      HCN_HRESULTS.get(hresult)?.meaning ||
      'unknown error';
    super(
      'HCN_ERROR',
      `${details.operation} failed${details.subject ? ` for ${details.subject}` : ''}: ${meaning} (${hcnHresultName(hresult)}, ${hcnHresultHex(hresult)})${hint ? `. ${hint}` : ''}`,
    );
    this.hresult = hresult;
    this.hresultHex = hcnHresultHex(hresult);
    this.hresultName = hcnHresultName(hresult);
    this.operation = details.operation;
    this.subject = details.subject;
    this.errorRecord = record;
    this.errorRecordText = details.errorRecord;
    this.hint = hint;
  }

  isNotFound(): boolean {
    return [HCN.NETWORK_NOT_FOUND, HCN.ENDPOINT_NOT_FOUND, HCN.ERROR_NOT_FOUND].includes(
      this.hresult as never,
    );
  }
  isAlreadyExists(): boolean {
    return this.hresult === HCN.NETWORK_ALREADY_EXISTS;
  }
  isInUse(): boolean {
    return this.hresult === HCN.ENTITY_HAS_REFERENCES;
  }
  isAccessDenied(): boolean {
    return this.hresult === HCN.E_ACCESSDENIED;
  }
  isServiceUnavailable(): boolean {
    return SERVICE_DOWN.has(this.hresult);
  }
}

function hintFor(hresult: number): string | undefined {
  if (hresult === HCN.E_ACCESSDENIED)
    return (
      'The Host Network Service refuses non-elevated callers on some builds (Windows 11 22H2 denies even members of ' +
      'Hyper-V Administrators): run hcs-sandbox from an elevated terminal (Run as administrator)'
    );
  if (SERVICE_DOWN.has(hresult))
    return 'The Host Network Service is not running: start it from an elevated PowerShell with `Start-Service hns`';
  if (hresult === 0x803b002a)
    return 'Internet Connection Sharing is disabled on this host; use a NAT network';
  return undefined;
}

function parseErrorRecord(text: string | null | undefined): HcnErrorRecord | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as HcnErrorRecord) : undefined;
  } catch {
    return undefined; // kept as text (hcsshim uses the raw text)
  }
}

/** A CIDR that does not parse, with what was wrong. */
export class CidrParseError extends InvalidArgumentError {
  constructor(field: string, received: unknown, detail: string) {
    super(field, 'an IPv4 CIDR such as 10.0.0.0/8', received, detail);
  }
}

/** A `-p` value that does not parse. */
export class PortMappingParseError extends InvalidArgumentError {
  constructor(field: string, received: unknown, detail: string) {
    super(field, '[hostAddress:]hostPort:sandboxPort[/tcp|/udp] with ports 1-65535', received, detail);
  }
}

/** A host port a sandbox wants to publish is already taken (by another program or one of our sandboxes). */
export class PortConflictError extends ConflictError {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly usedBy: string;

  constructor(port: number, protocol: 'tcp' | 'udp', usedBy: string) {
    super(
      'PORT_IN_USE',
      `Host port ${port}/${protocol} is already in use (${usedBy}). Pick another host port with -p, or stop what uses it.`,
    );
    this.port = port;
    this.protocol = protocol;
    this.usedBy = usedBy;
  }
}

/** A network named by the user does not exist, or is of the wrong kind. */
export class NetworkNotFoundError extends NotFoundError {
  readonly network: string;
  constructor(network: string, detail?: string) {
    super(
      'NETWORK_NOT_FOUND',
      detail ?? `No HCN network is named ${JSON.stringify(network)}. See \`hcs-sandbox network ls\`.`,
    );
    this.network = network;
  }
}

/** An HCN object that hcs-sandbox does not own was about to be changed. */
export class NetworkNotOwnedError extends ConflictError {
  constructor(what: string) {
    super(
      'NOT_OWNED',
      `${what} was not created by hcs-sandbox; it is left alone (remove it with the tool that created it).`,
    );
  }
}
