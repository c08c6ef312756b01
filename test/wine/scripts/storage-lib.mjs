// Helpers for the storage scripts (run inside node.exe under Wine): the product's
// storage layer from dist/, and the simulated computestorage.dll's control export.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';

export const storage = await import('../../../dist/storage/index.js');
export { done, main, product, trace } from './lib.mjs';

let control;
/** Sends a request to the simulated storage DLLs (HcsSimStorageControl, test-only export). */
export function storageSim(request) {
  if (!control) {
    const fn = koffi
      .load('computestorage.dll')
      .func('int32 HcsSimStorageControl(const char16_t *request, _Out_ void **response)');
    const LocalFree = koffi.load('kernel32.dll').func('void *LocalFree(void *p)');
    control = (req) => {
      const out = [null];
      const hr = fn(JSON.stringify(req), out);
      let text = null;
      if (out[0]) {
        text = koffi.decode.string16(out[0]);
        LocalFree(out[0]);
      }
      if (hr < 0)
        throw new Error(`HcsSimStorageControl ${req.Op} failed: 0x${(hr >>> 0).toString(16)} ${text ?? ''}`);
      return text ? JSON.parse(text) : null;
    };
  }
  return control(request);
}

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
