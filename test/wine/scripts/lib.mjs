// Shared helpers for scripts that run inside node.exe under Wine. They load the
// product from dist/ (built by the wine tier's global setup) exactly as a user
// would, and talk to the simulated host's control export for faults and audits.
import { writeFileSync } from 'node:fs';
import koffi from 'koffi';

// The package's public entries (package.json "exports", reached by self-reference):
// the root and the layer subpaths, merged.
export const product = Object.assign(
  {},
  ...(await Promise.all(
    ['hcs', 'storage', 'network', 'jobs', 'schema'].map((layer) => import(`hcs-sandbox/${layer}`)),
  )),
  await import('hcs-sandbox'),
);

/**
 * A caller for one simulated DLL's test-only control export
 * (`HRESULT name(PCWSTR request, PWSTR *response)`), freeing the response with
 * the allocator that DLL uses. Bound on first use.
 */
export function simControl(dll, exportName, free = { dll: 'kernel32.dll', name: 'LocalFree' }) {
  let call;
  return (request) => {
    if (!call) {
      const fn = koffi.load(dll).func(`int32 ${exportName}(const char16_t *request, _Out_ void **response)`);
      const release = koffi.load(free.dll).func(`void *${free.name}(void *p)`);
      call = (req) => {
        const out = [null];
        const hr = fn(JSON.stringify(req), out);
        let text = null;
        if (out[0]) {
          text = koffi.decode.string16(out[0]);
          release(out[0]);
        }
        if (hr < 0)
          throw new Error(`${exportName} ${req.Op} failed: 0x${(hr >>> 0).toString(16)} ${text ?? ''}`);
        return text ? JSON.parse(text) : null;
      };
    }
    return call(request);
  };
}

/** Sends a request to the simulated host (HcsSimControl, test-only export of the simulated computecore.dll). */
export const sim = simControl('computecore.dll', 'HcsSimControl');

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
