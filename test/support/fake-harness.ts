import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { ComputeSystem } from '../../src/hcs/index.js';
import { eventLoopHolders } from '../../src/hcs/keepalive.js';
import { hcsRuntime } from '../../src/hcs/runtime.js';
import { setNativeBindings } from '../../src/native/core/provider.js';
import { FakeComputeCore } from './fake-computecore.js';

export interface FakeHcsContext {
  /** The fake installed for the current test. */
  readonly fake: FakeComputeCore;
  /** Skip the end-of-test leak check (a test that leaks on purpose). */
  skipLeakCheck(): void;
}

/**
 * Installs a fresh {@link FakeComputeCore} as the native bindings before each
 * test and, after it, proves nothing leaked: every operation, handle, event
 * callback and pipe given back, no callback registration left in the router,
 * no event-loop holder left, no contract violation, no exception into the sink.
 */
export function useFakeHcs(): FakeHcsContext {
  let current: FakeComputeCore | undefined;
  let check = true;
  // The holder count is process-wide: compare with the count before the test,
  // so one failing test does not fail every test after it.
  let holdersBefore = 0;
  beforeEach(() => {
    holdersBefore = eventLoopHolders();
    current = new FakeComputeCore();
    check = true;
    setNativeBindings({ computeCore: current, kernel32: current });
  });
  afterEach(async () => {
    const fake = current;
    try {
      if (!fake || !check) return;
      await fake.settle();
      expect(fake.leaks()).toEqual([]);
      const { ledger } = fake;
      expect(ledger.operations.closed).toBe(ledger.operations.created);
      expect(ledger.systemHandles.closed).toBe(ledger.systemHandles.opened);
      expect(ledger.processHandles.closed).toBe(ledger.processHandles.opened);
      expect(ledger.callbacks.unregistered).toBe(ledger.callbacks.registered);
      expect(ledger.stdio.closed).toBe(ledger.stdio.returned);
      if (fake.calls.some((c) => c.fn === 'setCallbackSink'))
        expect(hcsRuntime().router.size).toEqual({ completions: 0, events: 0 });
      expect(eventLoopHolders()).toBe(holdersBefore);
    } finally {
      setNativeBindings(undefined);
      vi.unstubAllEnvs();
      vi.restoreAllMocks();
      current = undefined;
    }
  });
  return {
    get fake() {
      if (!current) throw new Error('useFakeHcs: no fake outside a test');
      return current;
    },
    skipLeakCheck() {
      check = false;
    },
  };
}

/** A minimal compute system document the fake accepts. */
export const CONTAINER_DOC = { Owner: 'unit', SchemaVersion: { Major: 2, Minor: 1 }, Container: {} };

/** Runs `test` against a running compute system of the fake, then terminates and closes it. */
export async function withSystem(test: (system: ComputeSystem) => Promise<void>): Promise<void> {
  const system = await ComputeSystem.create('sys', CONTAINER_DOC);
  try {
    await system.start();
    await test(system);
  } finally {
    await system.terminate().catch(() => undefined);
    await system.close();
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

/** The promise's rejection, or a failure if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
