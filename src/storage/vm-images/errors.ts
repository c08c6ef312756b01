import { ConflictError, HcsSandboxError, NotFoundError } from '../../internal/errors.js';

/** No VM image of that name in the store. */
export class VmImageNotFoundError extends NotFoundError {
  readonly image: string;
  constructor(image: string, hint = 'build one with `hcs-sandbox vm image build`') {
    super('VM_IMAGE_NOT_FOUND', `No VM image ${JSON.stringify(image)}: ${hint}.`);
    this.image = image;
  }
}

/** A VM image of that name exists already, or is being built by another process. */
export class VmImageExistsError extends ConflictError {
  readonly image: string;
  constructor(image: string, detail: string) {
    super('VM_IMAGE_EXISTS', `VM image ${JSON.stringify(image)} ${detail}.`);
    this.image = image;
  }
}

/** A VM image's record on disk is not what the store writes. Nothing was changed. */
export class VmImageCorruptError extends HcsSandboxError {
  readonly path: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super('VM_IMAGE_CORRUPT', `VM image record ${path}: ${problem}.`, options);
    this.path = path;
  }
}
