// Helpers for the storage scripts (run inside node.exe under Wine): the product's
// storage layer from dist/, and the simulated computestorage.dll's control export.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const storage = await import('../../../dist/storage/index.js');

import { simControl } from './lib.mjs';

export { done, main, product, trace } from './lib.mjs';

/** Sends a request to the simulated storage DLLs (HcsSimStorageControl, test-only export). */
export const storageSim = simControl('computestorage.dll', 'HcsSimStorageControl');

/** Every file and folder under `dir`, relative, sorted ([] when `dir` does not exist). */
export function scan(dir) {
  const out = [];
  const walk = (d, rel) => {
    let entries;
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const r = rel ? `${rel}\\${name}` : name;
      out.push(r);
      if (statSync(join(d, name)).isDirectory()) walk(join(d, name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** The parts of an error a test asserts on. */
export function describeError(error) {
  return {
    name: error?.name,
    code: error?.code,
    message: error?.message,
    operation: error?.operation,
    hresultHex: error?.hresultHex,
    field: error?.field,
    volume: error?.volume,
    freeBytes: error?.freeBytes,
    requestedBytes: error?.requestedBytes,
    undoFailures: error?.undoFailures?.map((f) => f.step),
  };
}
