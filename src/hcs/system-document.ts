/**
 * The argument checks and JSON plumbing ComputeSystem applies at the HCS
 * boundary: ids, documents going in (object or JSON string) and documents
 * coming back. Kept apart from the class so it reads as lifecycle only.
 */
import { InvalidArgumentError } from '../internal/errors.js';

/** A document for HCS: an object (serialised for you) or a JSON string. */
export type HcsDocument = object | string;

/** `null`/`undefined` pass through as "no document"; strings are sent as they are. */
export function serialise(field: string, document: HcsDocument | null | undefined): string | null {
  if (document === null || document === undefined) return null;
  if (typeof document === 'string') return document;
  if (typeof document !== 'object')
    throw new InvalidArgumentError(field, 'an object or a JSON string', document);
  return JSON.stringify(document);
}

/** Rejects ids HCS would refuse, before any native call is made. */
export function validateId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256 || /[\0\\/]/.test(id)) {
    throw new InvalidArgumentError(
      'id',
      'a non-empty string of at most 256 characters without \\, / or NUL',
      id,
    );
  }
}

/** HCS result documents: parsed when they are JSON, otherwise the raw text (never lost). */
export function parseJson(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
