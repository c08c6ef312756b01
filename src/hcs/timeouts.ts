/**
 * Default timeouts, in one place. Each can be overridden by an environment
 * variable (`HCS_SANDBOX_TIMEOUT_<NAME>_MS`) or per call with `{ timeoutMs }`.
 * The values follow hcsshim's (4 minutes for lifecycle calls) where HCS itself
 * may take long; quick queries get less.
 */
const DEFAULTS = {
  /** Create, start, pause, resume, save, shutdown: VMs can take minutes. */
  LIFECYCLE: 240_000,
  /** Terminate and crash are forced and should be quick. */
  TERMINATE: 60_000,
  /** Properties, enumerate, modify, process calls. */
  QUERY: 60_000,
  /** After asking HCS to cancel, how long to wait before abandoning the operation. */
  CANCEL_GRACE: 10_000,
} as const;

export type TimeoutName = keyof typeof DEFAULTS;

export function defaultTimeout(name: TimeoutName): number {
  const fromEnv = process.env[`HCS_SANDBOX_TIMEOUT_${name}_MS`];
  if (fromEnv !== undefined) {
    const value = Number(fromEnv);
    if (Number.isFinite(value) && value > 0) return value;
  }
  return DEFAULTS[name];
}
