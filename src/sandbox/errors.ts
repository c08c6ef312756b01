import { ConflictError, HcsSandboxError, NotFoundError, UnavailableError } from '../internal/errors.js';
import type { LockOwner } from '../internal/file-lock.js';

/**
 * The product's error family. Every error here extends `HcsSandboxError` and
 * carries a stable `code` (documented in docs/errors.md) that scripts and
 * `--json` output can rely on. `InvalidArgumentError` (internal/errors.ts)
 * covers bad input; `HcsError` (hcs/) is what Windows refused, and appears
 * as `cause` when a product error wraps it.
 */

/** No sandbox of that name (or id) is known to the state store. */
export class SandboxNotFoundError extends NotFoundError {
  readonly sandbox: string;

  constructor(sandbox: string, options?: { cause?: unknown }) {
    super('SANDBOX_NOT_FOUND', `No sandbox named ${JSON.stringify(sandbox)}.`, options);
    this.sandbox = sandbox;
  }
}

/** A sandbox of that name already exists. */
export class SandboxExistsError extends ConflictError {
  readonly sandbox: string;

  constructor(sandbox: string, options?: { cause?: unknown }) {
    super(
      'SANDBOX_EXISTS',
      `A sandbox named ${JSON.stringify(sandbox)} already exists; remove it or choose another name.`,
      options,
    );
    this.sandbox = sandbox;
  }
}

export type { LockOwner } from '../internal/file-lock.js';

/**
 * Another process holds the sandbox's lock (it is starting, stopping or
 * removing it) and did not release it within the wait.
 */
export class SandboxBusyError extends ConflictError {
  readonly sandbox: string;
  readonly waitedMs: number;
  /** The lock's holder as recorded in the lock file, when it could be read. */
  readonly owner: LockOwner | undefined;

  constructor(sandbox: string, waitedMs: number, owner: LockOwner | undefined) {
    const who = owner ? ` by process ${owner.pid} since ${owner.acquiredAt}` : '';
    super(
      'SANDBOX_BUSY',
      `Sandbox ${JSON.stringify(sandbox)} is locked${who}; gave up after ${waitedMs} ms. ` +
        'Another hcs-sandbox command is working on it: retry when it has finished.',
    );
    this.sandbox = sandbox;
    this.waitedMs = waitedMs;
    this.owner = owner;
  }
}

/** The state store's files cannot be read or are not what we wrote. */
export class StateCorruptError extends HcsSandboxError {
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super('STATE_CORRUPT', `State file ${path} is unreadable: ${detail}.`, options);
    this.path = path;
  }
}

/** Where in a `.wsb` file a problem is, and what would have been accepted. */
export interface WsbErrorDetails {
  /** The file's name as given (a path, or `<input>` for text without one). */
  fileName: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** The element path, e.g. `Configuration/MappedFolders/MappedFolder[2]/HostFolder`, when known. */
  element?: string;
  /** What went wrong, in words. */
  problem: string;
  /** What would have been accepted, in words, when there is a closed list or a rule. */
  allowed?: string;
}

/**
 * A Windows Sandbox configuration (`.wsb`) is malformed XML or says
 * something the format does not allow. The message starts with
 * `file:line:column`, like a compiler's.
 */
export class WsbError extends HcsSandboxError {
  readonly fileName: string;
  readonly line: number;
  readonly column: number;
  readonly element: string | undefined;
  readonly problem: string;
  readonly allowed: string | undefined;

  constructor(details: WsbErrorDetails, options?: { cause?: unknown }) {
    const where = `${details.fileName}:${details.line}:${details.column}`;
    const allowed = details.allowed ? ` Allowed: ${details.allowed}.` : '';
    const problem = details.problem.replace(/\.$/, '');
    super('WSB_INVALID', `${where}: ${problem}.${allowed}`, options);
    this.fileName = details.fileName;
    this.line = details.line;
    this.column = details.column;
    this.element = details.element;
    this.problem = problem;
    this.allowed = details.allowed;
  }
}

/**
 * The compute system exists but hcs-sandbox did not create it (another Owner,
 * or not our id prefix): we do not stop, remove or change it without `force`.
 */
export class NotOwnedError extends ConflictError {
  readonly systemId: string;
  readonly owner: string | undefined;

  /** `ourPrefix`: the id looks like hcs-sandbox's, but no record of this store names it. */
  constructor(systemId: string, owner: string | undefined, ourPrefix = false) {
    super(
      'NOT_OWNED',
      ourPrefix && owner === 'hcs-sandbox'
        ? `Compute system ${JSON.stringify(systemId)} belongs to another hcs-sandbox store (another HCS_SANDBOX_HOME or user, or an older version); ` +
            'open it from that store, or pass --force (force: true) to act on it anyway.'
        : `Compute system ${JSON.stringify(systemId)} belongs to ${owner ? JSON.stringify(owner) : 'someone else'}, ` +
            'not to hcs-sandbox; pass --force (force: true) to act on it anyway.',
    );
    this.systemId = systemId;
    this.owner = owner;
  }
}

/** HCS refused to change a limit of a running sandbox (this build or isolation cannot). */
export class LimitUpdateUnsupportedError extends UnavailableError {
  readonly sandbox: string;
  readonly resourcePath: string;

  constructor(sandbox: string, resourcePath: string, cause: unknown) {
    super(
      'LIMIT_UPDATE_UNSUPPORTED',
      `Sandbox ${JSON.stringify(sandbox)}: this Windows build cannot change ${resourcePath} while the sandbox runs; ` +
        'stop it, then start it again with the new limit (hcs-sandbox create ... --memory/--cpus).',
      { cause },
    );
    this.sandbox = sandbox;
    this.resourcePath = resourcePath;
  }
}

/**
 * What a VM sandbox cannot do without hcs-sandbox's guest agent: run commands,
 * reach files, map folders. A plain Windows guest has no HCS guest service, so
 * HcsCreateProcess has nothing to talk to (shared/docs/VM-SANDBOXES.md §2);
 * commands and files go through the agent, when this host can reach it
 * (docs/vm.md), and folders are not wired to it yet.
 */
export class GuestAgentRequiredError extends UnavailableError {
  readonly sandbox: string;
  /** What was asked: `commands`, `files`, `mapped folders`, `copying folders`. */
  readonly feature: string;

  constructor(sandbox: string, feature: string, why?: string) {
    super(
      'GUEST_AGENT_REQUIRED',
      `Sandbox ${JSON.stringify(sandbox)} is a VM: ${feature} in a VM sandbox go through hcs-sandbox's guest agent, ` +
        `${why ?? 'which does not do this yet'}. Use its screen (hcs-sandbox view) meanwhile, or process/hyperv isolation for headless work.`,
    );
    this.sandbox = sandbox;
    this.feature = feature;
  }
}

/**
 * The guest agent of a VM sandbox did not answer (its READY) in time: the VM
 * runs, but its image has no agent, the guest has not booted, or the relay
 * cannot reach it. `start` terminates the VM again before throwing this.
 */
export class AgentNotReadyError extends UnavailableError {
  readonly sandbox: string;
  readonly timeoutMs: number;

  constructor(sandbox: string, timeoutMs: number, cause: unknown) {
    super(
      'AGENT_NOT_READY',
      `Sandbox ${JSON.stringify(sandbox)}: its guest agent did not answer within ${timeoutMs} ms ` +
        `(${cause instanceof Error ? cause.message : String(cause)}). Check that its VM image has the agent ` +
        '(hcs-sandbox vm image build), or wait longer with HCS_SANDBOX_AGENT_READY_MS.',
      { cause },
    );
    this.sandbox = sandbox;
    this.timeoutMs = timeoutMs;
  }
}
