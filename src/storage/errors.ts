import { HcsSandboxError, InvalidStateError, UnavailableError } from '../internal/errors.js';
import { formatBytes } from '../internal/format-bytes.js';

/**
 * The target volume has less free space than the scratch disk may grow to.
 * Raised before anything is created, so nothing needs cleaning up.
 */
export class InsufficientSpaceError extends HcsSandboxError {
  /** The volume that was checked (`C:\`, or the mount point on other systems). */
  readonly volume: string;
  readonly freeBytes: number;
  readonly requestedBytes: number;

  constructor(volume: string, freeBytes: number, requestedBytes: number) {
    super(
      'INSUFFICIENT_SPACE',
      `Not enough free space on ${volume}: ${formatBytes(freeBytes)} free, ` +
        `${formatBytes(requestedBytes)} requested for the scratch disk. ` +
        'Free some space, choose a smaller sizeGB, or put the scratch layer on another volume.',
    );
    this.volume = volume;
    this.freeBytes = freeBytes;
    this.requestedBytes = requestedBytes;
  }
}

/** One undo step that failed while a failed operation was being rolled back. */
export interface UndoFailure {
  /** The step whose allocation could not be undone (e.g. `AttachVirtualDisk`). */
  step: string;
  error: unknown;
}

/**
 * An operation failed and rolling it back failed too: something may be left
 * behind (`undoFailures` says what). `cause` is the original failure. When the
 * rollback succeeds the original error is thrown unchanged instead.
 */
export class RollbackError extends HcsSandboxError {
  readonly undoFailures: UndoFailure[];

  constructor(cause: unknown, undoFailures: UndoFailure[]) {
    const original = cause instanceof Error ? cause.message : String(cause);
    const failures = undoFailures
      .map((f) => `${f.step}: ${f.error instanceof Error ? f.error.message : String(f.error)}`)
      .join('; ');
    super(
      'ROLLBACK_FAILED',
      `${original} (cleanup after the failure also failed, so something may be left behind: ${failures})`,
      {
        cause,
      },
    );
    this.undoFailures = undoFailures;
  }
}

/** A scratch layer folder that is not in the expected state (missing, or already there). */
export class ScratchLayerStateError extends InvalidStateError {
  readonly dir: string;

  constructor(dir: string, message: string) {
    super('SCRATCH_LAYER_STATE', message);
    this.dir = dir;
  }
}

/**
 * HCS storage needs an elevated process: an enabled BUILTIN\Administrators
 * SID, and for layer import, export and destroy the backup and restore
 * privileges (measured: hcsctl docs/findings.md, "Elevation"). Raised before
 * the call, or when HCS answers as it does to a filtered token (an empty
 * mount path). `missing` names what the token lacks.
 */
export class ElevationRequiredError extends UnavailableError {
  /** The storage step that needs it (`HcsImportLayer`, `createScratchLayer`...). */
  readonly operation: string;
  readonly missing: string[];

  constructor(operation: string, missing: string[]) {
    super(
      'ELEVATION_REQUIRED',
      `${operation} needs an elevated process (missing: ${missing.join(', ')}). ` +
        'Run hcs-sandbox from an elevated shell (Run as administrator); ' +
        '`hcs-sandbox doctor` lists what this token has.',
    );
    this.operation = operation;
    this.missing = missing;
  }
}

/**
 * `HcsDestroyLayer` reported success but the layer folder is still there (it
 * can, measured: hcsctl docs/findings.md). Nothing deletes it with plain file
 * calls: restored security descriptors refuse them, and a half-deleted layer
 * is worse than a whole one.
 */
export class LayerNotRemovedError extends InvalidStateError {
  readonly path: string;

  constructor(path: string) {
    super(
      'LAYER_NOT_REMOVED',
      `HcsDestroyLayer reported success but ${path} is still there. ` +
        'Close whatever holds files in it (an explorer window, a scanner, a mounted sandbox) and remove it again.',
    );
    this.path = path;
  }
}

/**
 * The store root (or the blob cache folder) is not one hcs-sandbox may trust:
 * another account owns it, it is a link, or others can write it and it cannot
 * be tightened. Everything under the root feeds privileged operations (layer
 * imports, `gc` deletions), so it must be writable by administrators (or, for
 * a folder of one's own, by its owner) only. Nothing was written.
 */
export class StoreRootNotSecureError extends InvalidStateError {
  readonly root: string;
  /** What is wrong, in words (`it is owned by S-1-5-21-...-1001`). */
  readonly reason: string;

  constructor(root: string, reason: string) {
    super(
      'STORE_ROOT_NOT_SECURE',
      `The hcs-sandbox folder ${root} is not safe to use: ${reason}. Nothing was written to it. ` +
        'Remove it (an administrator can take ownership first), or set HCS_SANDBOX_HOME to a new folder; ' +
        'hcs-sandbox creates it so that only administrators (or you, for a folder of your own) can write it.',
    );
    this.root = root;
    this.reason = reason;
  }
}
