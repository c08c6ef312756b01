import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, open, stat } from 'node:fs/promises';
import { hostname, uptime } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode, readIfExists, unlinkIfExists } from './atomic-file.js';
import { ConflictError, HcsSandboxError, InvalidArgumentError } from './errors.js';
import { builtin } from './lazy-dependency.js';

/** What the holder of a lock wrote into its lock file. */
export interface LockOwner {
  pid: number;
  /** When the lock was taken (ISO 8601). */
  acquiredAt: string;
  /** Host name of the owner, so a lock on a shared folder is not judged by a pid of another machine. */
  host?: string;
}

/** Another process held the lock past the wait (the default error; callers may pass their own). */
export class LockBusyError extends ConflictError {
  readonly key: string;
  readonly waitedMs: number;
  readonly owner: LockOwner | undefined;

  constructor(key: string, waitedMs: number, owner: LockOwner | undefined) {
    super(
      'LOCK_BUSY',
      `${key} is locked${owner ? ` by process ${owner.pid}` : ''}; gave up after ${waitedMs} ms.`,
    );
    this.key = key;
    this.waitedMs = waitedMs;
    this.owner = owner;
  }
}

/**
 * The lock file cannot be created because this process may not write there
 * (the folder's permissions), not because another process holds it.
 */
export class LockAccessDeniedError extends HcsSandboxError {
  readonly key: string;
  readonly path: string;

  constructor(key: string, path: string, cause: unknown) {
    super(
      'LOCK_ACCESS_DENIED',
      `${key}: cannot create the lock file ${path} (${errorCode(cause) ?? 'access denied'}); check the folder's permissions.`,
      { cause },
    );
    this.key = key;
    this.path = path;
  }
}

/**
 * Per-sandbox locks between processes: a lock file created with `O_EXCL`
 * (`open(path, 'wx')`) holding the owner's pid, host, boot time and a token.
 *
 * - A lock whose owner is dead (`process.kill(pid, 0)` gives `ESRCH`), or
 *   that was taken before the machine last booted, is stale and is broken.
 * - Breaking is done under a second lock file (`<lock>.break`), and the lock
 *   is read again under it, so two waiters that both saw the same stale lock
 *   cannot delete a fresh lock the other has just taken.
 * - Locks are re-entrant within one async call chain (AsyncLocalStorage), so
 *   store methods that lock can be called from inside `withLock`.
 */

export interface LockFileContent extends LockOwner {
  host: string;
  /** When the machine booted, per the owner (ms since epoch, rounded to seconds). */
  bootedAt: number;
  /** Unique per acquisition: only the holder of the token releases the lock. */
  token: string;
}

export interface WithLockOptions {
  /** How long to wait for another process to release the lock. Default 10 000 ms; 0 tries once. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The error to throw when the wait runs out (default `LockBusyError`). */
  busyError?: (key: string, waitedMs: number, owner: LockOwner | undefined) => Error;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** A lock file still empty after this long was left by a process that died between create and write. */
const EMPTY_LOCK_GRACE_MS = 2_000;
/** Two boot times closer than this are the same boot (clock adjustments). */
const BOOT_TOLERANCE_MS = 120_000;
/**
 * Creates refused with EPERM/EACCES while no lock file exists before that is
 * reported as a permission problem: Windows refuses briefly while a file is
 * being deleted, a folder we may not write refuses every time.
 */
const DENIED_TRIES = 5;
/** Immediate retries (lock released or broken under us) allowed once the wait has run out. */
const LATE_RETRIES = 3;

const held = new AsyncLocalStorage<ReadonlySet<string>>();
const heldTokens = new Set<string>();

function bootedAt(): number {
  return Math.round((Date.now() - uptime() * 1000) / 1000) * 1000;
}

/** Whether process `pid` exists (on this machine). `EPERM` means it exists but is not ours. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

function parseLock(text: string): LockFileContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockFileContent>;
    if (
      typeof value.pid === 'number' &&
      typeof value.acquiredAt === 'string' &&
      typeof value.host === 'string' &&
      typeof value.bootedAt === 'number' &&
      typeof value.token === 'string'
    ) {
      return value as LockFileContent;
    }
  } catch {
    // fall through
  }
  return undefined;
}

type LockState =
  | { kind: 'absent' }
  | { kind: 'held'; owner: LockFileContent | undefined }
  | { kind: 'stale'; text: string; why: string };

async function inspect(path: string): Promise<LockState> {
  const text = await readIfExists(path);
  if (text === undefined) return { kind: 'absent' };
  const owner = parseLock(text);
  if (!owner) {
    // Created but not yet written, or its writer died in between.
    const info = await stat(path).catch(() => undefined);
    if (!info) return { kind: 'absent' };
    return Date.now() - info.mtimeMs > EMPTY_LOCK_GRACE_MS
      ? { kind: 'stale', text, why: 'unreadable lock file' }
      : { kind: 'held', owner: undefined };
  }
  if (owner.host !== hostname()) return { kind: 'held', owner };
  if (Math.abs(owner.bootedAt - bootedAt()) > BOOT_TOLERANCE_MS) {
    return { kind: 'stale', text, why: 'taken before the machine restarted' };
  }
  if (owner.pid === process.pid) {
    return heldTokens.has(owner.token)
      ? { kind: 'held', owner }
      : { kind: 'stale', text, why: 'left by an earlier process with our pid' };
  }
  return processAlive(owner.pid)
    ? { kind: 'held', owner }
    : { kind: 'stale', text, why: `process ${owner.pid} is gone` };
}

/** `created`, `taken` (the file exists, or is busy), or the permission error that refused it. */
type CreateOutcome = { kind: 'created' } | { kind: 'taken' } | { kind: 'denied'; error: unknown };

function isDenied(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'EPERM' || code === 'EACCES';
}

async function tryCreate(path: string, content: LockFileContent): Promise<CreateOutcome> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EEXIST' || code === 'EBUSY') return { kind: 'taken' };
    // EPERM/EACCES: Windows refuses to create over a file that is being deleted; the caller tells that from a real denial.
    if (isDenied(err)) return { kind: 'denied', error: err };
    throw err;
  }
  try {
    await handle.writeFile(JSON.stringify(content), 'utf8');
  } finally {
    await handle.close();
  }
  return { kind: 'created' };
}

/**
 * Deletes the lock at `path` if it still holds exactly `staleText`, under the
 * breaker lock. `false` when another process is breaking it.
 */
async function breakStale(path: string, staleText: string): Promise<boolean> {
  const breaker = `${path}.break`;
  if ((await tryCreate(breaker, newContent())).kind !== 'created') {
    // Someone else is breaking it, or a breaker died mid-way (then we remove it).
    const state = await inspect(breaker);
    if (state.kind === 'stale') await unlinkIfExists(breaker);
    return false;
  }
  try {
    const now = await readIfExists(path);
    if (now === staleText) await unlinkIfExists(path);
  } finally {
    await unlinkIfExists(breaker);
  }
  return true;
}

function newContent(): LockFileContent {
  return {
    pid: process.pid,
    acquiredAt: new Date().toISOString(),
    host: hostname(),
    bootedAt: bootedAt(),
    token: builtin('node:crypto').randomBytes(12).toString('hex'),
  };
}

/**
 * Runs `fn` while holding the lock file at `path`; `key` names the lock for
 * re-entrancy and errors. Waits up to `timeoutMs` with growing, jittered
 * retries, then throws `options.busyError(...)` (default `LockBusyError`).
 */
export async function withFileLock<T>(
  key: string,
  path: string,
  fn: () => Promise<T>,
  options: WithLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new InvalidArgumentError('timeoutMs', 'a number of milliseconds >= 0', timeoutMs);
  }
  const current = held.getStore();
  if (current?.has(key)) return fn();

  const started = Date.now();
  const content = newContent();
  let delay = 10;
  let madeFolder = false;
  let denied = 0;
  let lateRetries = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    let outcome: CreateOutcome;
    try {
      outcome = await tryCreate(path, content);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT' || madeFolder) throw err;
      await mkdir(dirname(path), { recursive: true }).catch((mkdirErr: unknown) => {
        throw isDenied(mkdirErr) ? new LockAccessDeniedError(key, path, mkdirErr) : mkdirErr;
      });
      madeFolder = true;
      continue;
    }
    if (outcome.kind === 'created') break;

    const state = await inspect(path);
    // Every pass checks the time: a retry that never sleeps must not outlive the timeout.
    const waited = Date.now() - started;
    if (outcome.kind === 'denied' && state.kind === 'absent') {
      denied += 1;
      if (denied >= DENIED_TRIES || waited >= timeoutMs)
        throw new LockAccessDeniedError(key, path, outcome.error);
    } else {
      denied = 0;
      // A lock just released or broken is retried at once, even at the timeout (timeoutMs 0
      // still takes over a dead owner's lock), but only a few times past it.
      if (waited < timeoutMs || lateRetries++ < LATE_RETRIES) {
        if (state.kind === 'absent') continue;
        if (state.kind === 'stale' && (await breakStale(path, state.text))) continue;
      }
    }
    if (waited >= timeoutMs) {
      const owner = state.kind === 'held' ? ownerOf(state.owner) : undefined;
      throw options.busyError ? options.busyError(key, waited, owner) : new LockBusyError(key, waited, owner);
    }
    const pause = Math.min(delay + Math.random() * delay, timeoutMs - waited);
    await sleep(Math.max(1, pause));
    delay = Math.min(delay * 2, 250);
  }

  heldTokens.add(content.token);
  try {
    const next = new Set(current);
    next.add(key);
    return await held.run(next, fn);
  } finally {
    heldTokens.delete(content.token);
    await release(path, content.token);
  }
}

async function release(path: string, token: string): Promise<void> {
  const text = await readIfExists(path).catch(() => undefined);
  // Not ours any more (broken as stale by someone who thought we were gone): leave it.
  if (text === undefined || parseLock(text)?.token !== token) return;
  await unlinkIfExists(path);
}

function ownerOf(content: LockFileContent | undefined): LockOwner | undefined {
  return content ? { pid: content.pid, acquiredAt: content.acquiredAt, host: content.host } : undefined;
}

/** Reads who holds the lock at `path`, if anyone (for `inspect` and error messages). */
export async function lockOwner(path: string): Promise<LockOwner | undefined> {
  const state = await inspect(path);
  return state.kind === 'held' ? ownerOf(state.owner) : undefined;
}
