/**
 * Bounds on what a registry can make a pull spend: how many bytes of a body held
 * in memory (manifest, config, token, error) and how long to wait for an answer
 * or for the next bytes of one. A hostile or broken registry (an endless body, a
 * server that accepts and never answers, a body that stalls) ends in a
 * `RegistryError` naming the host, never in unbounded memory or a hang; so does a
 * network failure (refused, reset, redirect loop, dropped mid-body), which fetch
 * reports as a bare `TypeError: fetch failed`.
 */
import { RegistryError } from './registry-errors.js';

export interface RegistryLimits {
  /** Largest manifest or index read into memory. */
  maxManifestBytes: number;
  /** Largest image config read into memory. */
  maxConfigBytes: number;
  /** Largest token service answer read into memory. */
  maxTokenBytes: number;
  /** Largest error body read (beyond it the error is reported without the registry's detail). */
  maxErrorBodyBytes: number;
  /** Milliseconds from sending a request to its response headers. */
  headersTimeoutMs: number;
  /** Milliseconds a body may go without a byte (the blob download loop and every small body). */
  idleTimeoutMs: number;
  /**
   * Milliseconds a small body (manifest, config, token, error) may take in all: a
   * server trickling a byte just inside `idleTimeoutMs` would otherwise hold a pull
   * for as long as the body cap allows.
   */
  bodyTimeoutMs: number;
  /**
   * The slowest a layer download may be, in bytes per second averaged over each
   * `idleTimeoutMs` window (a layer has no total deadline: a big one takes long on a
   * slow link). Below it the download fails and its partial file is kept to resume.
   */
  minBytesPerSecond: number;
  /**
   * How many times its download size a layer may inflate to (gzip), beyond
   * `minInflateBytes`: past that the layer is refused as a decompression bomb before
   * the rest is inflated. Real Windows layers inflate about 2 to 5 times.
   */
  maxInflateRatio: number;
  /** Uncompressed bytes any layer may reach whatever its ratio (small layers of zero-filled hives compress far). */
  minInflateBytes: number;
}

const MiB = 1024 * 1024;

/**
 * The defaults. 4 MiB is containerd's manifest cap (`MaxManifestSize` in
 * remotes/docker/resolver.go, written `4 * 1048 * 1048` and meant as 4 MiB):
 * real manifests are a few KiB, so no genuine image comes near it.
 */
export const REGISTRY_LIMITS: Readonly<RegistryLimits> = Object.freeze({
  maxManifestBytes: 4 * MiB,
  maxConfigBytes: 4 * MiB,
  maxTokenBytes: 4 * MiB,
  maxErrorBodyBytes: 4 * MiB,
  headersTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  bodyTimeoutMs: 120_000,
  // curl's --speed-limit idea; 1 KiB/s is far below any link that could pull a Windows image.
  minBytesPerSecond: 1024,
  maxInflateRatio: 100,
  minInflateBytes: 512 * MiB,
});

/** The most uncompressed bytes a layer of `downloadBytes` may inflate to under `limits`. */
export function maxLayerTarBytes(downloadBytes: number, limits: RegistryLimits): number {
  return Math.max(limits.minInflateBytes, downloadBytes * limits.maxInflateRatio);
}

/** The defaults with the given ones replaced. */
export function registryLimits(overrides: Partial<RegistryLimits> = {}): RegistryLimits {
  const limits = { ...REGISTRY_LIMITS };
  for (const [key, value] of Object.entries(overrides) as [keyof RegistryLimits, number | undefined][]) {
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

/** `host[:port]` of a URL, for messages. */
export function hostOf(url: string | URL): string {
  try {
    return new URL(url).host;
  } catch {
    return String(url);
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/**
 * What went wrong on the wire, as a `RegistryError` (status 0: no HTTP answer)
 * naming the host and keeping the original error as `cause`. A `RegistryError`
 * or the caller's own abort passes through unchanged.
 */
export function networkError(err: unknown, url: string | URL, what: string, signal?: AbortSignal): unknown {
  if (err instanceof RegistryError || (signal?.aborted && err === signal.reason)) return err;
  let detail = err instanceof Error ? err.message : String(err);
  for (let e = (err as Error | undefined)?.cause, depth = 0; e instanceof Error && depth < 4; depth++) {
    if (!detail.includes(e.message)) detail += `: ${e.message}`;
    e = e.cause;
  }
  return new RegistryError(`${what}: ${hostOf(url)}: ${detail}`, 0, String(url), [], err);
}

/**
 * `fetch` with a deadline on the response headers: the request is aborted when
 * nothing answered within `headersTimeoutMs` (the caller's `signal` still
 * aborts it as before). Network failures become `RegistryError`s.
 */
export async function fetchWithTimeout(
  fetchImpl: typeof fetch,
  url: string | URL,
  init: RequestInit,
  limits: RegistryLimits,
  what: string,
  signal?: AbortSignal,
): Promise<Response> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), limits.headersTimeoutMs);
  try {
    // The caller's signal keeps reaching the body after the headers; the deadline does not.
    return await fetchImpl(url, {
      ...init,
      signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
    });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.signal.aborted) {
      throw new RegistryError(
        `${what}: ${hostOf(url)} sent no answer within ${seconds(limits.headersTimeoutMs)}`,
        0,
        String(url),
        [],
        err,
      );
    }
    throw networkError(err, url, what);
  } finally {
    clearTimeout(timer);
  }
}

/** How fast a body must come, besides `idleTimeoutMs` between any two bytes. */
export interface BodyPace {
  /** A deadline for the whole body, in milliseconds from the first read. */
  totalMs?: number;
  /** The least bytes per second, averaged over each `idleTimeoutMs` window. */
  minBytesPerSecond?: number;
}

/**
 * A body's chunks, failing with a `RegistryError` when no byte arrives for
 * `idleTimeoutMs`, the connection drops, or the body is slower than `pace` asks
 * (a trickle that keeps the idle timer from firing). The body is cancelled on any early end.
 */
export async function* idleChunks(
  res: Response,
  idleTimeoutMs: number,
  what: string,
  signal?: AbortSignal,
  pace: BodyPace = {},
): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const url = res.url;
  let finished = false;
  const started = Date.now();
  let window = { start: started, bytes: 0 };
  try {
    for (;;) {
      const left =
        pace.totalMs === undefined ? Number.POSITIVE_INFINITY : started + pace.totalMs - Date.now();
      const wait = Math.max(0, Math.min(idleTimeoutMs, left));
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const problem =
            wait < idleTimeoutMs
              ? `took more than ${seconds(pace.totalMs ?? 0)} in all`
              : `sent nothing for ${seconds(idleTimeoutMs)}`;
          reject(new RegistryError(`${what}: ${hostOf(url)} ${problem}`, 0, url));
        }, wait);
      });
      let step: Awaited<ReturnType<typeof reader.read>>;
      try {
        step = await Promise.race([reader.read(), idle]);
      } catch (err) {
        throw networkError(err, url, what, signal);
      } finally {
        clearTimeout(timer);
      }
      if (step.done) {
        finished = true;
        return;
      }
      window = checkPace(window, step.value.byteLength, idleTimeoutMs, pace, `${what}: ${hostOf(url)}`, url);
      yield step.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Counts `bytes` into the current window; at its end, fails when the window was slower than `pace`. */
function checkPace(
  window: { start: number; bytes: number },
  bytes: number,
  windowMs: number,
  pace: BodyPace,
  where: string,
  url: string,
): { start: number; bytes: number } {
  const now = Date.now();
  const counted = { start: window.start, bytes: window.bytes + bytes };
  const elapsed = now - counted.start;
  if (pace.minBytesPerSecond === undefined || elapsed < windowMs) return counted;
  const rate = (counted.bytes * 1000) / elapsed;
  if (rate < pace.minBytesPerSecond) {
    throw new RegistryError(
      `${where} sent ${counted.bytes} bytes in ${seconds(elapsed)}, slower than ${pace.minBytesPerSecond} bytes/s`,
      0,
      url,
    );
  }
  return { start: now, bytes: 0 };
}

/**
 * A whole body, at most `maxBytes` of it (checked against `Content-Length` first,
 * then as it arrives), within `limits.bodyTimeoutMs` in all.
 */
export async function readCapped(
  res: Response,
  maxBytes: number,
  limits: Pick<RegistryLimits, 'idleTimeoutMs' | 'bodyTimeoutMs'>,
  what: string,
  signal?: AbortSignal,
): Promise<Buffer> {
  const tooLarge = () =>
    new RegistryError(`${what}: ${hostOf(res.url)} sent more than ${maxBytes} bytes`, res.status, res.url);
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const pace = { totalMs: limits.bodyTimeoutMs };
  for await (const chunk of idleChunks(res, limits.idleTimeoutMs, what, signal, pace)) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
