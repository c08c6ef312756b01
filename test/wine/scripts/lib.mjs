// Shared helpers for scripts that run inside node.exe under Wine. They load the
// product from dist/ (built by the wine tier's global setup) exactly as a user
// would, and talk to the simulated host's control export for faults and audits.
import { writeFileSync } from 'node:fs';
import koffi from 'koffi';

export const product = await import('../../../dist/index.js');

let control;
/** Sends a request to the simulated host (HcsSimControl, test-only export of the simulated DLL). */
export function sim(request) {
  if (!control) {
    const lib = koffi.load('computecore.dll');
    const fn = lib.func('int32 HcsSimControl(const char16_t *request, _Out_ void **response)');
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
        throw new Error(`HcsSimControl ${req.Op} failed: 0x${(hr >>> 0).toString(16)} ${text ?? ''}`);
      return text ? JSON.parse(text) : null;
    };
  }
  return control(request);
}

/** A minimal process-isolated container document (the simulated host does not boot it). */
export function containerDocument(extra = {}) {
  return {
    SchemaVersion: { Major: 2, Minor: 1 },
    Owner: 'hcs-sandbox-tests',
    ShouldTerminateOnLastHandleClosed: true,
    Container: { Storage: { Layers: [] } },
    ...extra,
  };
}

/** Notes progress on stderr (a file), so a test that hangs shows where. */
export function trace(step) {
  process.stderr.write(`step ${step} at ${Math.round(performance.now())} ms\n`);
}

/** Writes the script's result for the Linux-side test and exits cleanly. */
export function done(result) {
  writeFileSync(
    process.env.HCS_TEST_RESULT_FILE,
    JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
  );
}

/** Runs `main`, reporting an error as a result too so the test can show it. */
export async function main(fn) {
  try {
    const result = await fn();
    done(result ?? {});
  } catch (error) {
    done({
      error: {
        name: error?.name,
        message: error?.message,
        stack: error?.stack,
        code: error?.code,
        hresult: error?.hresult,
      },
    });
    process.exitCode = 1;
  }
}
