/**
 * How many native calls that can run for minutes (HcsImportLayer,
 * HcsExportLayer, HcsSetupBaseOSLayer) may be in flight at once in this
 * process.
 *
 * koffi runs every `.async` call on libuv's thread pool (napi_create_async_work),
 * which has 4 threads unless UV_THREADPOOL_SIZE was set before the process
 * started: setting it from inside the process is too late under Windows Node
 * (measured under Wine, even from a CommonJS entry; see docs/performance.md).
 * A real base layer import takes minutes, so four of them at once would stall
 * every other HCS call, fs operation and gunzip of the process until they end.
 * Letting at most two in at a time keeps half the pool for everything else,
 * whatever the pool size; the others wait their turn (the disk is the limit
 * for imports anyway).
 */
export const LONG_CALL_SLOTS = 2;

let running = 0;
const waiting: (() => void)[] = [];

/** Runs `call` once fewer than {@link LONG_CALL_SLOTS} long calls are in flight. */
export async function asLongCall<T>(call: () => Promise<T>): Promise<T> {
  if (running >= LONG_CALL_SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await call();
  } finally {
    // Hand the slot straight to the next waiter, so it cannot be taken in between.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}
