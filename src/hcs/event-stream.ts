/**
 * A fan-out of events to listeners and async iterators. HCS allows one callback
 * per handle, so the JavaScript side shares it (HCS-NOTES §3.2).
 */
export class EventStream<E> {
  readonly #listeners = new Set<(event: E) => void>();
  readonly #onEnd = new Set<() => void>();
  #ended = false;

  emit(event: E): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A user listener must not break delivery to the others, nor reach C.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Calls `listener` for every event; returns the function that unsubscribes. */
  on(listener: (event: E) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ends every iterator (the handle was closed). */
  end(): void {
    this.#ended = true;
    for (const wake of [...this.#onEnd]) wake();
    this.#listeners.clear();
    this.#onEnd.clear();
  }

  async *iterate(signal?: AbortSignal): AsyncGenerator<E> {
    if (this.#ended) return;
    const queue: E[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const off = this.on((event) => {
      queue.push(event);
      wake?.();
    });
    const onAbort = () => {
      done = true;
      wake?.();
    };
    this.#onEnd.add(onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (true) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (done) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      off();
      this.#onEnd.delete(onAbort);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
