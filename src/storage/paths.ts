import { isAbsolute } from 'node:path';
import { InvalidArgumentError } from '../internal/errors.js';

/** Throws {@link InvalidArgumentError} unless `path` is an absolute path. */
export function checkAbsolutePath(path: unknown, field: string): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || !isAbsolute(path) || path.includes('\0')) {
    throw new InvalidArgumentError(field, 'an absolute path', path);
  }
}
