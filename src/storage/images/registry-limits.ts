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
});

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

/**
 * A body's chunks, failing with a `RegistryError` when no byte arrives for
 * `idleTimeoutMs` or the connection drops. The body is cancelled on any early end.
 */
export async function* idleChunks(
  res: Response,
  idleTimeoutMs: number,
  what: string,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const url = res.url;
  let finished = false;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RegistryError(`${what}: ${hostOf(url)} sent nothing for ${seconds(idleTimeoutMs)}`, 0, url),
            ),
          idleTimeoutMs,
        );
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
      yield step.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** A whole body, at most `maxBytes` of it (checked against `Content-Length` first, then as it arrives). */
export async function readCapped(
  res: Response,
  maxBytes: number,
  idleTimeoutMs: number,
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
  for await (const chunk of idleChunks(res, idleTimeoutMs, what, signal)) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
