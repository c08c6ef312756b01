import { describe, expect, it } from 'vitest';
import { RollbackError } from '../../../src/storage/errors.js';
import { UndoStack, withUndo } from '../../../src/storage/undo.js';

describe('UndoStack / withUndo', () => {
  it('runs the undos newest first when the work fails, then rethrows the original error', async () => {
    const order: string[] = [];
    const failure = new Error('step 3 failed');
    await expect(
      withUndo(async (undo) => {
        undo.push('one', () => void order.push('undo one'));
        undo.push('two', async () => void order.push('undo two'));
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(order).toEqual(['undo two', 'undo one']);
  });

  it('forgets the undos on success', async () => {
    const order: string[] = [];
    const result = await withUndo(async (undo) => {
      undo.push('one', () => void order.push('undo one'));
      return 42;
    });
    expect(result).toBe(42);
    expect(order).toEqual([]);
  });

  it('collects failing undos into a RollbackError, still running every other undo', async () => {
    const order: string[] = [];
    const failure = new Error('boom');
    const error = await withUndo(async (undo) => {
      undo.push('first', () => void order.push('undo first'));
      undo.push('second', () => {
        throw new Error('cannot undo second');
      });
      undo.push('third', () => void order.push('undo third'));
      throw failure;
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackError);
    const rollback = error as RollbackError;
    expect(rollback.code).toBe('ROLLBACK_FAILED');
    expect(rollback.cause).toBe(failure);
    expect(rollback.undoFailures.map((f) => f.step)).toEqual(['second']);
    expect(rollback.message).toContain('boom');
    expect(rollback.message).toContain('second: cannot undo second');
    expect(order).toEqual(['undo third', 'undo first']);
  });

  it('drop() removes the latest undo of a step; pending() lists newest first', async () => {
    const stack = new UndoStack();
    const order: string[] = [];
    stack.push('a', () => void order.push('a'));
    stack.push('b', () => void order.push('b'));
    stack.push('c', () => void order.push('c'));
    stack.drop('b');
    expect(stack.pending()).toEqual(['c', 'a']);
    expect(await stack.rollback()).toEqual([]);
    expect(order).toEqual(['c', 'a']);
    expect(stack.pending()).toEqual([]);
  });
});
