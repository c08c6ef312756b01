import { describe, expect, it } from 'vitest';
import { asLongCall, LONG_CALL_SLOTS } from '../../../src/internal/long-calls.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('long native calls', () => {
  it(`run at most ${LONG_CALL_SLOTS} at a time, the rest in order as slots free`, async () => {
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const calls = gates.map((gate, i) =>
      asLongCall(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1]);
    gates[1]?.resolve();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1, 2]);
    for (const gate of gates) gate.resolve();
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('a failing call gives its slot back', async () => {
    const failures = await Promise.allSettled(
      Array.from({ length: 4 }, () =>
        asLongCall(async () => {
          throw new Error('refused');
        }),
      ),
    );
    expect(failures.every((f) => f.status === 'rejected')).toBe(true);
    expect(await asLongCall(async () => 'next')).toBe('next');
  });
});
