import { RollbackError, type UndoFailure } from './errors.js';

type UndoFn = () => Promise<void> | void;

/**
 * A small undo stack: each step that allocates something registers how to give
 * it back; if a later step fails, the undos run newest first. Undo failures are
 * collected, never thrown over the original error (see {@link withUndo}).
 */
export class UndoStack {
  readonly #steps: { step: string; undo: UndoFn }[] = [];

  /** Registers the undo of `step`, which has just allocated something. */
  push(step: string, undo: UndoFn): void {
    this.#steps.push({ step, undo });
  }

  /** Drops the undo of the most recent `step` (its allocation was released normally). */
  drop(step: string): void {
    for (let i = this.#steps.length - 1; i >= 0; i--) {
      if (this.#steps[i]!.step === step) {
        this.#steps.splice(i, 1);
        return;
      }
    }
  }

  /** The steps that would be undone, newest first (diagnostics and tests). */
  pending(): string[] {
    return this.#steps.map((s) => s.step).reverse();
  }

  /** Success: forget every undo. */
  commit(): void {
    this.#steps.length = 0;
  }

  /** Runs every undo, newest first, and returns those that failed. */
  async rollback(): Promise<UndoFailure[]> {
    const failures: UndoFailure[] = [];
    while (this.#steps.length > 0) {
      const { step, undo } = this.#steps.pop()!;
      try {
        await undo();
      } catch (error) {
        failures.push({ step, error });
      }
    }
    return failures;
  }
}

/**
 * Runs `fn` with a fresh {@link UndoStack}. On success the undos are forgotten;
 * on failure they run newest first, then the original error is rethrown, or a
 * {@link RollbackError} (original as `cause`) when some undo failed too.
 */
export async function withUndo<T>(fn: (undo: UndoStack) => Promise<T>): Promise<T> {
  const stack = new UndoStack();
  let result: T;
  try {
    result = await fn(stack);
  } catch (error) {
    const failures = await stack.rollback();
    if (failures.length > 0) throw new RollbackError(error, failures);
    throw error;
  }
  stack.commit();
  return result;
}
