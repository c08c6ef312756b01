import { ConflictError, NotFoundError } from '../../internal/errors.js';

/**
 * A name on the way to a sandbox file is a link (a symbolic link, junction or
 * mount point, or a reparse point that would send the open elsewhere). The files
 * API never follows one: a link made inside the sandbox could point anywhere on
 * the host. A conflict, not a bad argument: the path is well formed, but what
 * the sandbox holds there is not a plain file or folder.
 */
export class SandboxPathLinkError extends ConflictError {
  /** The sandbox path up to and including the link (`C:\work\link`). */
  readonly path: string;

  constructor(path: string) {
    super(
      'PATH_IS_LINK',
      `${path} inside the sandbox is a link (symbolic link, junction or mount point); ` +
        'the files API never follows links, which could point outside the sandbox. ' +
        'Use the path of the real file, or copy it from inside the sandbox with commands.run.',
    );
    this.path = path;
  }
}

/** No file or folder of that name inside the sandbox. */
export class SandboxPathNotFoundError extends NotFoundError {
  /** The sandbox path up to the missing name. */
  readonly path: string;

  constructor(path: string) {
    super('PATH_NOT_FOUND', `${path} does not exist inside the sandbox.`);
    this.path = path;
  }
}

/** A folder removed without `recursive` still holds files, or a file is read-only or in use. */
export class SandboxPathNotRemovableError extends ConflictError {
  readonly path: string;

  constructor(path: string, why: 'not-empty' | 'read-only') {
    super(
      why === 'not-empty' ? 'FOLDER_NOT_EMPTY' : 'PATH_NOT_REMOVABLE',
      why === 'not-empty'
        ? `${path} inside the sandbox is a folder that is not empty; pass { recursive: true } to remove it with its contents.`
        : `${path} inside the sandbox cannot be removed: it is read-only or in use inside the sandbox ` +
            '(clear the attribute with `attrib -r`, or stop what holds it, then try again).',
    );
    this.path = path;
  }
}
