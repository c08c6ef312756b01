import { HcsError } from './errors.js';
import { HR } from './hresults.js';
import type { CallOptions } from './operation.js';

/** A promise settled from outside, once. Unobserved rejections are not errors. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  let settled = false;
  return {
    promise,
    get settled() {
      return settled;
    },
    resolve: (value) => {
      if (settled) return;
      settled = true;
      resolve(value);
    },
    reject: (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    },
  };
}

/**
 * Waits for `promise`, giving up on `signal` (an HcsError that `isCanceled()`)
 * or after `timeoutMs` (one that `isTimeout()`), and leaves no timer or
 * listener behind either way. Giving up does not stop what is awaited.
 */
export function waitWithin<T>(
  promise: Promise<T>,
  options: CallOptions | undefined,
  context: { operation: string; systemId?: string | undefined; processId?: number | undefined },
): Promise<T> {
  const { signal, timeoutMs } = options ?? {};
  if (!signal && timeoutMs === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      finish();
      reject(
        new HcsError({ ...context, hresult: HR.ERROR_CANCELLED, canceled: true, cause: signal?.reason }),
      );
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        finish();
        reject(new HcsError({ ...context, hresult: HR.HCS_E_OPERATION_TIMEOUT, timedOut: true }));
      }, timeoutMs);
    }
    promise.then(
      (value) => {
        finish();
        resolve(value);
      },
      (error: unknown) => {
        finish();
        reject(error);
      },
    );
  });
}
