import { describe, expect, it } from 'vitest';
import { HcsError, HR, runOperation } from '../../../src/hcs/index.js';
import { eventLoopHolders } from '../../../src/hcs/keepalive.js';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { FakeHr } from '../../support/fake-computecore.js';
import { rejectionOf, sleep, useFakeHcs } from '../../support/fake-harness.js';

const hcs = useFakeHcs();

/** An enumerate through runOperation: the simplest operation-based call. */
function enumerate(options?: Parameters<typeof runOperation>[1]) {
  return runOperation(
    {
      name: 'HcsEnumerateComputeSystems',
      timeout: 'QUERY',
      call: (api, op) => api.enumerateComputeSystems(null, op),
    },
    options,
  );
}

/** Marks the timeline when `promise` settles, so tests can check what happened before. */
function marked<T>(promise: Promise<T>): Promise<T> {
  return promise.then(
    (value) => {
      hcs.fake.mark('resolved');
      return value;
    },
    (error: unknown) => {
      hcs.fake.mark('rejected');
      throw error;
    },
  );
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('runOperation', () => {
  it('creates an operation, completes it asynchronously through the callback, and closes it', async () => {
    hcs.fake.addSystem('a');
    let returned = false;
    const pending = enumerate().then((outcome) => {
      returned = true;
      return outcome;
    });
    // The fake never completes inside the call; nothing has resolved yet.
    expect(returned).toBe(false);
    expect(eventLoopHolders()).toBe(1);
    const outcome = await pending;
    expect(JSON.parse(outcome.document ?? 'null')).toEqual([
      { Id: 'a', SystemType: 'Container', Owner: 'fake', State: 'Running' },
    ]);
    expect(hcs.fake.nativeCalls().map((c) => c.fn)).toEqual([
      'HcsCreateOperation',
      'HcsEnumerateComputeSystems',
      'HcsGetOperationResult',
      'HcsCloseOperation',
    ]);
    expect(eventLoopHolders()).toBe(0);
  });

  it('rejects an already aborted signal before any native call', async () => {
    const controller = new AbortController();
    const reason = new Error('not wanted');
    controller.abort(reason);
    const error = await rejectionOf(enumerate({ signal: controller.signal }));
    expect(error).toBeInstanceOf(HcsError);
    const hcsError = error as HcsError;
    expect(hcsError.isCanceled()).toBe(true);
    expect(hcsError.cause).toBe(reason);
    expect(hcsError.message).toContain('HcsEnumerateComputeSystems was canceled');
    expect(hcs.fake.nativeCalls()).toEqual([]);
    expect(eventLoopHolders()).toBe(0);
  });

  it('on abort, cancels the operation and rejects only after HCS completed it', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang' });
    const controller = new AbortController();
    const pending = marked(enumerate({ signal: controller.signal }));
    await hcs.fake.settle();
    expect(hcs.fake.pendingOperations()).toHaveLength(1);
    const reason = new Error('user gave up');
    controller.abort(reason);
    const error = (await rejectionOf(pending)) as HcsError;
    expect(error).toBeInstanceOf(HcsError);
    expect(error.isCanceled()).toBe(true);
    expect(error.isTimeout()).toBe(false);
    expect(error.canceled).toBe(true);
    expect(error.cause).toBe(reason);
    expect(hcs.fake.nativeCalls('HcsCancelOperation')).toHaveLength(1);
    expect(hcs.fake.timeline).toEqual([
      'start op#1 HcsEnumerateComputeSystems',
      'cancel op#1',
      'complete op#1 HcsEnumerateComputeSystems 0x800704c7',
      'close op#1',
      'rejected',
    ]);
  });

  it('resolves when HCS completes the work despite the cancel', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang', honourCancel: false });
    const controller = new AbortController();
    const pending = enumerate({ signal: controller.signal });
    await hcs.fake.settle();
    controller.abort();
    await hcs.fake.settle();
    const [op] = hcs.fake.pendingOperations();
    hcs.fake.completePending(op!.handle);
    await expect(pending).resolves.toEqual({ document: '[]', processInfo: undefined });
  });

  it('times out after timeoutMs: cancels, waits, and reports a timeout', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang' });
    const started = Date.now();
    const error = (await rejectionOf(marked(enumerate({ timeoutMs: 30 })))) as HcsError;
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(error.isTimeout()).toBe(true);
    expect(error.timedOut).toBe(true);
    expect(error.isCanceled()).toBe(true); // HCS completed it as cancelled
    expect(error.message).toContain('HcsEnumerateComputeSystems timed out');
    expect(hcs.fake.timeline.indexOf('cancel op#1')).toBeLessThan(hcs.fake.timeline.indexOf('rejected'));
    expect(hcs.fake.timeline.at(-2)).toBe('close op#1');
  });

  it('takes the default timeout from the environment', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang' });
    process.env.HCS_SANDBOX_TIMEOUT_QUERY_MS = '20';
    try {
      const error = (await rejectionOf(enumerate())) as HcsError;
      expect(error.isTimeout()).toBe(true);
    } finally {
      delete process.env.HCS_SANDBOX_TIMEOUT_QUERY_MS;
    }
  });

  it('abandons an operation whose cancel is not honoured after the grace period', async () => {
    process.env.HCS_SANDBOX_TIMEOUT_CANCEL_GRACE_MS = '40';
    try {
      hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang', honourCancel: false });
      const started = Date.now();
      const error = (await rejectionOf(marked(enumerate({ timeoutMs: 20 })))) as HcsError;
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
      expect(error.isTimeout()).toBe(true);
      expect(error.hresult).toBe(HR.HCS_E_OPERATION_TIMEOUT);
      expect(error.message).toContain('HCS_E_OPERATION_TIMEOUT');
      expect(hcs.fake.ledger.operations.abandoned).toBe(1);
      expect(hcs.fake.timeline).toEqual([
        'start op#1 HcsEnumerateComputeSystems',
        'cancel op#1',
        'abandon op#1',
        'rejected',
      ]);
    } finally {
      delete process.env.HCS_SANDBOX_TIMEOUT_CANCEL_GRACE_MS;
    }
  });

  it('abandons on abort too, reporting a cancellation', async () => {
    process.env.HCS_SANDBOX_TIMEOUT_CANCEL_GRACE_MS = '20';
    try {
      hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang', honourCancel: false });
      const controller = new AbortController();
      const pending = enumerate({ signal: controller.signal });
      await hcs.fake.settle();
      controller.abort();
      const error = (await rejectionOf(pending)) as HcsError;
      expect(error.isCanceled()).toBe(true);
      expect(error.hresult).toBe(HR.ERROR_CANCELLED);
      expect(hcs.fake.ledger.operations.abandoned).toBe(1);
    } finally {
      delete process.env.HCS_SANDBOX_TIMEOUT_CANCEL_GRACE_MS;
    }
  });

  it('leaves no grace timer behind once a cancelled operation completes', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang' });
    const before = activeTimers();
    const controller = new AbortController();
    const pending = enumerate({ signal: controller.signal });
    await hcs.fake.settle();
    controller.abort();
    await rejectionOf(pending);
    // A 10 s grace timer left running would keep a script alive after the failure.
    expect(activeTimers()).toBe(before);
  });

  it('turns a rejected call into an HcsError with name and hex, and reads the ResultError', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', {
      kind: 'reject',
      hresult: 0x80370105,
      document: { Error: 0x80370105 | 0, ErrorMessage: 'Not now' },
    });
    const error = (await rejectionOf(enumerate())) as HcsError;
    expect(error).toBeInstanceOf(HcsError);
    expect(error.hresult).toBe(0x80370105);
    expect(error.hresultHex).toBe('0x80370105');
    expect(error.hresultName).toBe('HCS_E_INVALID_STATE');
    expect(error.message).toBe(
      'HcsEnumerateComputeSystems failed: Not now (HCS_E_INVALID_STATE, 0x80370105)',
    );
    expect(error.resultError?.ErrorMessage).toBe('Not now');
    expect(error.isInvalidState()).toBe(true);
    // No completion callback is awaited for a request HCS did not accept.
    expect(hcs.fake.nativeCalls('HcsCancelOperation')).toEqual([]);
    expect(eventLoopHolders()).toBe(0);
  });

  it('parses the ResultError document of a failed operation, ErrorEvents into the message', async () => {
    const document = {
      Error: 0xc037010d | 0,
      ErrorMessage: 'The virtual machine or container JSON document is invalid.',
      ErrorEvents: [
        {
          Message: 'The specified compute system configuration is invalid: unknown field Foo',
          EventId: 11010,
        },
        { Message: 'The virtual machine or container JSON document is invalid.' },
        { Message: '' },
        { Message: 'second detail' },
      ],
      Attribution: [{ OperationFailure: { Detail: 'Construct' } }],
    };
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'fail', hresult: 0xc037010d, document });
    const error = (await rejectionOf(enumerate())) as HcsError;
    expect(error.hresult).toBe(0xc037010d);
    expect(error.resultError).toEqual(document);
    expect(error.document).toBe(JSON.stringify(document));
    expect(error.isNotSupported()).toBe(true);
    expect(error.message).toBe(
      'HcsEnumerateComputeSystems failed: The virtual machine or container JSON document is invalid. ' +
        '(ERROR_VMCOMPUTE_INVALID_JSON, 0xC037010D). ' +
        'The specified compute system configuration is invalid: unknown field Foo; second detail',
    );
  });

  it('keeps the HRESULT when the document is not JSON', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', {
      kind: 'fail',
      hresult: 0x80004005,
      document: 'garbage{',
    });
    const error = (await rejectionOf(enumerate())) as HcsError;
    expect(error.resultError).toBeUndefined();
    expect(error.document).toBe('garbage{');
    expect(error.message).toContain('(E_FAIL, 0x80004005)');
  });

  it('reports a failed HcsCreateOperation as out of memory', async () => {
    hcs.fake.createOperation = () => null;
    const error = (await rejectionOf(enumerate())) as HcsError;
    expect(error.operation).toBe('HcsCreateOperation');
    expect(error.hresult).toBe(HR.E_OUTOFMEMORY);
    expect(eventLoopHolders()).toBe(0);
  });

  it('validates call options before any native call', async () => {
    for (const [options, field] of [
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ timeoutMs: -5 }, 'timeoutMs'],
      [{ timeoutMs: Number.NaN }, 'timeoutMs'],
      [{ timeoutMs: Number.POSITIVE_INFINITY }, 'timeoutMs'],
      [{ timeoutMs: '100' as unknown as number }, 'timeoutMs'],
      [{ signal: {} as AbortSignal }, 'signal'],
    ] as const) {
      const error = await rejectionOf(enumerate(options));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe(field);
      expect((error as Error).message).toMatch(new RegExp(`^Invalid ${field}: expected`));
    }
    expect(hcs.fake.nativeCalls()).toEqual([]);
  });

  it('runs 64 operations concurrently, each with its own key, all closed', async () => {
    hcs.fake.latencyMs = 5;
    hcs.fake.addSystem('x');
    const results = await Promise.all(Array.from({ length: 64 }, () => enumerate()));
    expect(results).toHaveLength(64);
    for (const r of results) expect(JSON.parse(r.document ?? '[]')).toHaveLength(1);
    const keys = hcs.fake.nativeCalls('HcsCreateOperation').map((c) => c.args[0]);
    expect(new Set(keys).size).toBe(64);
    expect(hcs.fake.ledger.operations).toEqual({ created: 64, closed: 64, abandoned: 0 });
  });

  it('mixes successes, failures and cancellations among concurrent operations', async () => {
    for (let i = 0; i < 64; i++) {
      if (i % 3 === 0) hcs.fake.onNextCall({ kind: 'fail', hresult: 0x8037010e, delayMs: 1 + (i % 7) });
      else if (i % 3 === 1) hcs.fake.onNextCall({ kind: 'hang' });
      else hcs.fake.onNextCall({ kind: 'delay', ms: 1 + (i % 5) });
    }
    const controller = new AbortController();
    const all = Promise.allSettled(
      Array.from({ length: 64 }, () => enumerate({ signal: controller.signal })),
    );
    await sleep(20);
    controller.abort();
    const settled = await all;
    const by = (i: number) => settled[i]!;
    for (let i = 0; i < 64; i++) {
      const outcome = by(i);
      if (i % 3 === 2) expect(outcome.status).toBe('fulfilled');
      else {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as HcsError;
        if (i % 3 === 0) expect(error.isNotFound()).toBe(true);
        else expect(error.isCanceled()).toBe(true);
      }
    }
    expect(hcs.fake.ledger.operations).toEqual({ created: 64, closed: 64, abandoned: 0 });
  });

  it('never reads a result from a closed operation when the completion arrives late', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'fail', hresult: FakeHr.E_INVALIDARG, delayMs: 5 });
    await expect(enumerate()).rejects.toBeInstanceOf(HcsError);
    await sleep(10);
    expect(hcs.fake.violations).toEqual([]);
  });
});
