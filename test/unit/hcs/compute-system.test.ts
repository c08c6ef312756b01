import { describe, expect, it, vi } from 'vitest';
import {
  ComputeSystem,
  type ComputeSystemEvent,
  HandleClosedError,
  HcsError,
  HR,
} from '../../../src/hcs/index.js';
import { eventLoopHolders } from '../../../src/hcs/keepalive.js';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { HcsEventType } from '../../../src/native/core/types.js';
import { FakeHr } from '../../support/fake-computecore.js';
import { CONTAINER_DOC, rejectionOf, sleep, useFakeHcs } from '../../support/fake-harness.js';

const hcs = useFakeHcs();

async function running(id = 'sys'): Promise<ComputeSystem> {
  const system = await ComputeSystem.create(id, CONTAINER_DOC);
  await system.start();
  return system;
}

function collect(system: ComputeSystem): ComputeSystemEvent[] {
  const seen: ComputeSystemEvent[] = [];
  system.on((event) => seen.push(event));
  return seen;
}

describe('ComputeSystem.create', () => {
  it('creates a system in the Created state and registers its event callback at once', async () => {
    const system = await ComputeSystem.create('box', CONTAINER_DOC);
    expect(system.id).toBe('box');
    expect(system.closed).toBe(false);
    expect(hcs.fake.system('box').state).toBe('Created');
    const [create] = hcs.fake.nativeCalls('HcsCreateComputeSystem');
    expect(create?.args.slice(0, 2)).toEqual(['box', JSON.stringify(CONTAINER_DOC)]);
    const fns = hcs.fake.nativeCalls().map((c) => c.fn);
    // The callback goes on before the create completes, so an early exit is never missed.
    expect(fns.indexOf('HcsSetComputeSystemCallback')).toBeLessThan(fns.indexOf('HcsGetOperationResult'));
    expect(hcs.fake.ledger.callbacks.registered).toBe(1);
    expect(eventLoopHolders()).toBe(1);
    await system.close();
    expect(eventLoopHolders()).toBe(0);
  });

  it('passes a JSON string document through unchanged', async () => {
    const text = '{"Owner":"raw","Container":{}}';
    const system = await ComputeSystem.create('raw', text);
    expect(hcs.fake.nativeCalls('HcsCreateComputeSystem')[0]?.args[1]).toBe(text);
    expect(hcs.fake.system('raw').owner).toBe('raw');
    await system.close();
  });

  it('fails with isAlreadyExists for a duplicate id and closes the handle it got', async () => {
    hcs.fake.addSystem('dup');
    const error = (await rejectionOf(ComputeSystem.create('dup', CONTAINER_DOC))) as HcsError;
    expect(error).toBeInstanceOf(HcsError);
    expect(error.isAlreadyExists()).toBe(true);
    expect(error.hresult).toBe(0x8037010f);
    expect(error.systemId).toBe('dup');
    expect(error.message).toContain('HCS_E_SYSTEM_ALREADY_EXISTS, 0x8037010F');
    expect(error.message).toContain('for system "dup"');
    expect(hcs.fake.nativeCalls('HcsCloseComputeSystem')).toHaveLength(1);
  });

  it('fails with isNotSupported for a document HCS cannot parse', async () => {
    const error = (await rejectionOf(ComputeSystem.create('bad', '{not json'))) as HcsError;
    expect(error.isNotSupported()).toBe(true);
    expect(error.hresultName).toBe('HCS_E_INVALID_JSON');
  });

  it('surfaces a failure document from HCS', async () => {
    hcs.fake.onNext('HcsCreateComputeSystem', {
      kind: 'fail',
      hresult: 0x80070005,
      document: {
        Error: -2147024891,
        ErrorMessage: '',
        Attribution: [{ OperationFailure: { Detail: 'Construct' } }],
      },
    });
    const error = (await rejectionOf(ComputeSystem.create('denied', CONTAINER_DOC))) as HcsError;
    expect(error.isAccessDenied()).toBe(true);
    expect(error.resultError?.Attribution).toEqual([{ OperationFailure: { Detail: 'Construct' } }]);
    expect(error.message).toContain('access denied (E_ACCESSDENIED, 0x80070005)');
  });

  it('fails without a handle when the call is rejected', async () => {
    hcs.fake.onNext('HcsCreateComputeSystem', { kind: 'reject', hresult: 0x8037011b });
    const error = (await rejectionOf(ComputeSystem.create('nope', CONTAINER_DOC))) as HcsError;
    expect(error.isAccessDenied()).toBe(true);
    expect(hcs.fake.ledger.systemHandles.opened).toBe(0);
  });

  it('cancels a pending create on abort and closes the half-made system', async () => {
    hcs.fake.onNext('HcsCreateComputeSystem', { kind: 'hang' });
    const controller = new AbortController();
    const pending = ComputeSystem.create('slow', CONTAINER_DOC, { signal: controller.signal });
    await hcs.fake.settle();
    controller.abort();
    const error = (await rejectionOf(pending)) as HcsError;
    expect(error.isCanceled()).toBe(true);
    expect(hcs.fake.system('slow').gone).toBe(true);
    expect(hcs.fake.timeline.slice(-3)).toEqual([
      'complete op#1 HcsCreateComputeSystem 0x800704c7',
      'close op#1',
      'close system slow',
    ]);
  });

  it('times out a create that never completes', async () => {
    hcs.fake.onNext('HcsCreateComputeSystem', { kind: 'hang' });
    const error = (await rejectionOf(
      ComputeSystem.create('slow', CONTAINER_DOC, { timeoutMs: 20 }),
    )) as HcsError;
    expect(error.isTimeout()).toBe(true);
    expect(error.systemId).toBe('slow');
  });

  it('does not call HCS when aborted before it starts', async () => {
    const error = (await rejectionOf(
      ComputeSystem.create('x', CONTAINER_DOC, { signal: AbortSignal.abort() }),
    )) as HcsError;
    expect(error.isCanceled()).toBe(true);
    expect(hcs.fake.nativeCalls()).toEqual([]);
  });

  it('validates id, document and options before any native call', async () => {
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => ComputeSystem.create('', CONTAINER_DOC), 'id'],
      [() => ComputeSystem.create('a/b', CONTAINER_DOC), 'id'],
      [() => ComputeSystem.create('a\\b', CONTAINER_DOC), 'id'],
      [() => ComputeSystem.create('a\0b', CONTAINER_DOC), 'id'],
      [() => ComputeSystem.create('x'.repeat(257), CONTAINER_DOC), 'id'],
      [() => ComputeSystem.create(42 as unknown as string, CONTAINER_DOC), 'id'],
      [() => ComputeSystem.create('ok', 42 as unknown as object), 'document'],
      [() => ComputeSystem.create('ok', null as unknown as object), 'document'],
      [() => ComputeSystem.create('ok', CONTAINER_DOC, { timeoutMs: -1 }), 'timeoutMs'],
      [() => ComputeSystem.open(''), 'id'],
      [() => ComputeSystem.open('ok', { signal: 'no' as unknown as AbortSignal }), 'signal'],
    ];
    for (const [run, field] of cases) {
      const error = await rejectionOf(run());
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe(field);
      expect((error as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
    }
    expect(hcs.fake.nativeCalls()).toEqual([]);
  });
});

describe('ComputeSystem.open', () => {
  it('opens a system made elsewhere; closing leaves it running', async () => {
    hcs.fake.addSystem('other', 'Running');
    const system = await ComputeSystem.open('other');
    const props = await system.properties();
    expect(props.State).toBe('Running');
    await system.close();
    expect(hcs.fake.system('other').state).toBe('Running');
  });

  it('reports an unknown id as isNotFound', async () => {
    const error = (await rejectionOf(ComputeSystem.open('ghost'))) as HcsError;
    expect(error).toBeInstanceOf(HcsError);
    expect(error.isNotFound()).toBe(true);
    expect(error.operation).toBe('HcsOpenComputeSystem');
    expect(error.message).toBe(
      'HcsOpenComputeSystem failed for system "ghost": no compute system has that id (HCS_E_SYSTEM_NOT_FOUND, 0x8037010E)',
    );
  });

  it('is cancelled, without a native call, when the signal is already aborted', async () => {
    hcs.fake.addSystem('other');
    const error = (await rejectionOf(
      ComputeSystem.open('other', { signal: AbortSignal.abort() }),
    )) as HcsError;
    expect(error).toBeInstanceOf(HcsError);
    expect(error.isCanceled()).toBe(true);
    expect(hcs.fake.nativeCalls()).toEqual([]);
  });

  it('closes the handle it opened when the event callback cannot be registered', async () => {
    hcs.fake.addSystem('other');
    hcs.fake.onNext('HcsSetComputeSystemCallback', { kind: 'reject', hresult: FakeHr.E_INVALIDARG });
    const error = (await rejectionOf(ComputeSystem.open('other'))) as HcsError;
    expect(error.operation).toBe('HcsSetComputeSystemCallback');
    expect(hcs.fake.nativeCalls('HcsCloseComputeSystem')).toHaveLength(1);
  });

  it('sees events through every open handle', async () => {
    const created = await running('shared');
    const opened = await ComputeSystem.open('shared');
    const exitedAgain = opened.waitForExit();
    await created.terminate();
    await expect(exitedAgain).resolves.toEqual({ Status: 0, ExitType: 'ForcedExit' });
    // The other handle already knows: no second terminate reaches HCS.
    await expect(opened.terminate()).resolves.toEqual({ Status: 0, ExitType: 'ForcedExit' });
    expect(hcs.fake.nativeCalls('HcsTerminateComputeSystem')).toHaveLength(1);
    await Promise.all([created.close(), opened.close()]);
  });
});

describe('ComputeSystem lifecycle', () => {
  it('starts, pauses, resumes, saves', async () => {
    const system = await ComputeSystem.create('vm', CONTAINER_DOC);
    await system.start();
    expect(hcs.fake.system('vm').state).toBe('Running');
    await system.pause();
    expect(hcs.fake.system('vm').state).toBe('Paused');
    await system.save({ SaveType: 'ToFile', SaveStateFilePath: 'C:\\state.vmrs' });
    expect(hcs.fake.nativeCalls('HcsSaveComputeSystem')[0]?.args[2]).toBe(
      JSON.stringify({ SaveType: 'ToFile', SaveStateFilePath: 'C:\\state.vmrs' }),
    );
    await system.resume();
    expect(hcs.fake.system('vm').state).toBe('Running');
    await system.pause({ pauseOptions: { SuspensionLevel: 'Suspend' } });
    expect(hcs.fake.nativeCalls('HcsPauseComputeSystem')[1]?.args[2]).toBe('{"SuspensionLevel":"Suspend"}');
    await system.terminate();
    await system.close();
  });

  it('reports invalid transitions as isInvalidState', async () => {
    const system = await ComputeSystem.create('vm', CONTAINER_DOC);
    for (const attempt of [() => system.pause(), () => system.resume(), () => system.save({})]) {
      const error = (await rejectionOf(attempt())) as HcsError;
      expect(error.isInvalidState()).toBe(true);
      expect(error.hresult).toBe(HR.HCS_E_INVALID_STATE);
      expect(error.systemId).toBe('vm');
    }
    await system.start();
    const twice = (await rejectionOf(system.start())) as HcsError;
    expect(twice.isInvalidState()).toBe(true);
    expect(twice.operation).toBe('HcsStartComputeSystem');
    expect(twice.message).toBe(
      'HcsStartComputeSystem failed for system "vm": the operation is not valid in the current state (HCS_E_INVALID_STATE, 0x80370105)',
    );
    await system.close(); // not terminated: the fake system keeps running, no handle is left
    hcs.fake.stopSystem('vm');
  });

  it('shuts down gracefully and resolves with the exit status', async () => {
    const system = await running();
    const events = collect(system);
    const status = await system.shutdown();
    expect(status).toEqual({ Status: 0, ExitType: 'GracefulExit' });
    expect(system.exitStatus).toEqual(status);
    expect(events).toEqual([{ type: 'exited', status }]);
    expect(hcs.fake.nativeCalls('HcsShutDownComputeSystem')[0]?.args[2]).toBeNull();
    await system.close();
  });

  it('passes shutdown options', async () => {
    const system = await running();
    const shutdownOptions = { Mechanism: 'IntegrationService', Type: 'Shutdown' };
    await system.shutdown({ shutdownOptions });
    expect(hcs.fake.nativeCalls('HcsShutDownComputeSystem')[0]?.args[2]).toBe(
      JSON.stringify(shutdownOptions),
    );
    await system.close();
  });

  it('terminates a created, never started system', async () => {
    const system = await ComputeSystem.create('c', CONTAINER_DOC);
    await expect(system.terminate()).resolves.toEqual({ Status: 0, ExitType: 'ForcedExit' });
    await system.close();
  });

  it('waits for the exit event when it comes after the terminate completes', async () => {
    const system = await running();
    hcs.fake.onNext('HcsTerminateComputeSystem', { kind: 'succeed' });
    const pending = system.terminate();
    await sleep(10);
    expect(system.exitStatus).toBeUndefined();
    hcs.fake.stopSystem('sys', 'ForcedExit');
    await expect(pending).resolves.toEqual({ Status: 0, ExitType: 'ForcedExit' });
    await system.close();
  });

  it.each([
    ['HCS_E_SYSTEM_ALREADY_STOPPED', 0x80370110],
    ['ERROR_VMCOMPUTE_SYSTEM_ALREADY_STOPPED', 0xc0370110],
    ['HCS_E_SYSTEM_NOT_FOUND', 0x8037010e],
    ['ERROR_VMCOMPUTE_SYSTEM_NOT_FOUND', 0xc037010e],
    ['ERROR_NOT_FOUND', 0x80070490],
  ])('treats %s from terminate and shutdown as success', async (_name, hresult) => {
    const system = await running();
    hcs.fake.onNext('HcsTerminateComputeSystem', { kind: 'fail', hresult });
    await expect(system.terminate()).resolves.toBeUndefined();
    hcs.fake.onNext('HcsShutDownComputeSystem', { kind: 'reject', hresult });
    await expect(system.shutdown()).resolves.toBeUndefined();
    await system.terminate();
    await system.close();
  });

  it('still reports other terminate failures', async () => {
    const system = await running();
    hcs.fake.onNext('HcsTerminateComputeSystem', { kind: 'fail', hresult: 0x8037011b });
    const error = (await rejectionOf(system.terminate())) as HcsError;
    expect(error.isAccessDenied()).toBe(true);
    await system.terminate();
    await system.close();
  });

  it('returns the known exit status without calling HCS once stopped', async () => {
    const system = await running();
    hcs.fake.stopSystem('sys', 'GracefulExit');
    await hcs.fake.settle();
    const before = hcs.fake.nativeCalls().length;
    await expect(system.terminate()).resolves.toEqual({ Status: 0, ExitType: 'GracefulExit' });
    await expect(system.shutdown()).resolves.toEqual({ Status: 0, ExitType: 'GracefulExit' });
    expect(hcs.fake.nativeCalls()).toHaveLength(before);
    await system.close();
  });

  it('crashes the guest with the default crash options and reports the crash events', async () => {
    const system = await running();
    const events = collect(system);
    await system.crash();
    expect(hcs.fake.nativeCalls('HcsCrashComputeSystem')[0]?.args[2]).toBe('{"Type":"CrashGuest"}');
    expect(events.map((e) => e.type)).toEqual(['crashInitiated', 'crashReport', 'exited']);
    expect(events[1]).toEqual({ type: 'crashReport', report: { SystemId: 'sys' } });
    expect(system.exitStatus?.ExitType).toBe('UnexpectedExit');
    await system.close();
  });

  it('reads properties, with and without a query', async () => {
    const system = await running();
    await expect(system.properties()).resolves.toEqual({
      Id: 'sys',
      SystemType: 'Container',
      Owner: 'unit',
      State: 'Running',
    });
    expect(hcs.fake.nativeCalls('HcsGetComputeSystemProperties')[0]?.args[2]).toBeNull();
    const withList = await system.properties<{ ProcessList: unknown[] }>({ PropertyTypes: ['ProcessList'] });
    expect(withList.ProcessList).toEqual([]);
    hcs.fake.onNext('HcsGetComputeSystemProperties', { kind: 'succeed', document: null });
    await expect(system.properties()).resolves.toEqual({});
    await system.terminate();
    await system.close();
  });

  it('modifies the system and returns the parsed result document', async () => {
    const system = await running();
    const request = {
      ResourcePath: 'VirtualMachine/ComputeTopology/Memory/SizeInMB',
      RequestType: 'Update',
      Settings: 2048,
    };
    await expect(system.modify(request)).resolves.toBeUndefined();
    expect(hcs.fake.system('sys').modifications).toEqual([request]);
    hcs.fake.onNext('HcsModifyComputeSystem', { kind: 'succeed', document: { Applied: true } });
    await expect(system.modify(JSON.stringify(request))).resolves.toEqual({ Applied: true });
    await system.terminate();
    await system.close();
  });

  it('validates lifecycle arguments before any native call', async () => {
    const system = await running();
    const before = hcs.fake.nativeCalls().length;
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => system.properties(7 as unknown as object), 'query'],
      [() => system.modify(null as unknown as object), 'request'],
      [() => system.modify(5 as unknown as object), 'request'],
      [() => system.start({ timeoutMs: 0 }), 'timeoutMs'],
      [() => system.pause({ signal: 1 as unknown as AbortSignal }), 'signal'],
      [() => system.modify({}, { timeoutMs: -1 }), 'timeoutMs'],
      [() => system.waitForExit({ timeoutMs: Number.NaN }), 'timeoutMs'],
    ];
    for (const [run, field] of cases) {
      const error = await rejectionOf(run());
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe(field);
    }
    expect(hcs.fake.nativeCalls()).toHaveLength(before);
    await system.terminate();
    await system.close();
  });

  it('runs 64 concurrent operations on one system', async () => {
    const system = await running();
    hcs.fake.latencyMs = 3;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const all = await Promise.all(Array.from({ length: 64 }, () => system.properties()));
      expect(all.every((p) => p.State === 'Running')).toBe(true);
      await sleep(5);
    } finally {
      process.off('warning', onWarning);
    }
    // Many operations in flight must not trip Node's listener-leak warning.
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    await system.terminate();
    await system.close();
  });
});

describe('ComputeSystem.waitForExit', () => {
  it('resolves when the system stops, and at once afterwards', async () => {
    const system = await running();
    const waiting = system.waitForExit();
    hcs.fake.stopSystem('sys', 'GracefulExit', 0);
    await expect(waiting).resolves.toEqual({ Status: 0, ExitType: 'GracefulExit' });
    await expect(system.waitForExit()).resolves.toEqual({ Status: 0, ExitType: 'GracefulExit' });
    await system.close();
  });

  it('times out', async () => {
    const system = await running();
    const error = (await rejectionOf(system.waitForExit({ timeoutMs: 15 }))) as HcsError;
    expect(error.isTimeout()).toBe(true);
    expect(error.operation).toBe('waitForExit');
    await system.terminate();
    await system.close();
  });

  it('is cancelled by its signal, before or during the wait', async () => {
    const system = await running();
    const early = (await rejectionOf(system.waitForExit({ signal: AbortSignal.abort() }))) as HcsError;
    expect(early.isCanceled()).toBe(true);
    const controller = new AbortController();
    const waiting = system.waitForExit({ signal: controller.signal });
    controller.abort();
    expect(((await rejectionOf(waiting)) as HcsError).isCanceled()).toBe(true);
    await system.terminate();
    await system.close();
  });

  it('rejects waiters with HandleClosedError when the handle closes', async () => {
    const system = await running();
    const waiting = rejectionOf(system.waitForExit());
    await system.close();
    expect(await waiting).toBeInstanceOf(HandleClosedError);
    await expect(system.waitForExit()).rejects.toBeInstanceOf(HandleClosedError);
    hcs.fake.stopSystem('sys');
  });
});

describe('ComputeSystem events', () => {
  it('maps every HCS event type', async () => {
    const system = await running();
    const events = collect(system);
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemRdpEnhancedModeStateChanged, { Enabled: true });
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemSiloJobCreated, { JobId: 1 });
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemGuestConnectionClosed);
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemCrashInitiated, 'not json');
    hcs.fake.fireSystemEvent('sys', HcsEventType.GroupVmLifecycle, '{"x":1}');
    expect(events).toEqual([
      { type: 'rdpEnhancedModeStateChanged', data: { Enabled: true } },
      { type: 'siloJobCreated', data: { JobId: 1 } },
      { type: 'guestConnectionClosed', data: undefined },
      { type: 'crashInitiated', report: 'not json' },
      { type: 'other', eventType: HcsEventType.GroupVmLifecycle, data: '{"x":1}' },
    ]);
    await system.terminate();
    await system.close();
  });

  it('iterates events until the handle closes', async () => {
    const system = await running();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const event of system.events()) seen.push(event.type);
    })();
    await system.crash();
    await system.close();
    await loop;
    expect(seen).toEqual(['crashInitiated', 'crashReport', 'exited']);
    // An iterator started after close ends at once.
    const late = system.events();
    await expect(late.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('ends an iterator when its signal aborts', async () => {
    const system = await running();
    const controller = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const event of system.events(controller.signal)) seen.push(event.type);
    })();
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemGuestConnectionClosed);
    await sleep(1);
    controller.abort();
    await loop;
    expect(seen).toEqual(['guestConnectionClosed']);
    await system.terminate();
    await system.close();
  });

  it('unsubscribes a listener', async () => {
    const system = await running();
    const listener = vi.fn();
    const off = system.on(listener);
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemGuestConnectionClosed);
    off();
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemGuestConnectionClosed);
    expect(listener).toHaveBeenCalledTimes(1);
    await system.terminate();
    await system.close();
  });

  it('keeps delivering when a listener throws, and nothing reaches the callback sink', async () => {
    const system = await running();
    const rethrown: Array<() => void> = [];
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => {
      rethrown.push(task);
    });
    const boom = new Error('listener bug');
    const first = vi.fn(() => {
      throw boom;
    });
    const second = vi.fn();
    const off = system.on(first);
    system.on(second);
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemGuestConnectionClosed);
    hcs.fake.fireSystemEvent('sys', HcsEventType.SystemGuestConnectionClosed);
    vi.mocked(queueMicrotask).mockRestore();
    off();
    expect(first).toHaveBeenCalledTimes(2);
    expect(second).toHaveBeenCalledTimes(2);
    expect(hcs.fake.sinkErrors).toEqual([]);
    // The error is not lost: it is rethrown later, outside the native callback.
    expect(rethrown).toHaveLength(2);
    expect(() => rethrown[0]?.()).toThrow(boom);
    await system.terminate();
    await system.close();
  });

  it('drops events that arrive for a closed registration', async () => {
    const system = await running();
    const registration = hcs.fake.nativeCalls('HcsSetComputeSystemCallback')[0]?.args[2] as number;
    await system.close();
    const runtime = (await import('../../../src/hcs/runtime.js')).hcsRuntime();
    expect(() =>
      runtime.router.eventReceived(registration, {
        type: HcsEventType.SystemExited,
        eventData: null,
        operation: null,
      }),
    ).not.toThrow();
    hcs.fake.stopSystem('sys');
  });

  it('on ServiceDisconnect rejects exit waiters and does not terminate on dispose', async () => {
    const system = await running();
    const events = collect(system);
    const waiting = system.waitForExit();
    hcs.fake.disconnectService();
    const error = (await rejectionOf(waiting)) as HcsError;
    expect(error.isServiceDisconnected()).toBe(true);
    expect(error.hresultName).toBe('HCS_E_SERVICE_DISCONNECT');
    expect(events).toEqual([{ type: 'serviceDisconnected' }]);
    // Later waits fail too instead of hanging on a dead service.
    const later = (await rejectionOf(system.waitForExit())) as HcsError;
    expect(later.isServiceDisconnected()).toBe(true);
    await system[Symbol.asyncDispose]();
    expect(hcs.fake.nativeCalls('HcsTerminateComputeSystem')).toEqual([]);
    hcs.fake.stopSystem('sys');
  });
});

describe('ComputeSystem.close', () => {
  it('is idempotent and rejects later calls with HandleClosedError', async () => {
    const system = await running();
    await system.terminate();
    const first = system.close();
    const second = system.close();
    expect(second).toBe(first);
    await first;
    await system.close();
    expect(system.closed).toBe(true);
    expect(hcs.fake.nativeCalls('HcsCloseComputeSystem')).toHaveLength(1);
    await expect(system.start()).rejects.toBeInstanceOf(HandleClosedError);
    await expect(system.properties()).rejects.toBeInstanceOf(HandleClosedError);
    await expect(system.modify({})).rejects.toBeInstanceOf(HandleClosedError);
    expect(() => system.nativeHandle()).toThrow(HandleClosedError);
    expect(String((await rejectionOf(system.pause())) as Error)).toBe(
      'HandleClosedError: Compute system sys has been closed; open it again to use it.',
    );
  });

  it('cancels a pending operation and waits for it before closing the handle', async () => {
    const system = await running();
    hcs.fake.onNext('HcsPauseComputeSystem', { kind: 'hang' });
    hcs.fake.onNext('HcsModifyComputeSystem', { kind: 'hang' });
    const pausing = rejectionOf(system.pause());
    const modifying = rejectionOf(system.modify({ RequestType: 'Update' }));
    const waiting = rejectionOf(system.waitForExit());
    await hcs.fake.settle();
    await system.close();
    const pauseError = (await pausing) as HcsError;
    expect(pauseError.isCanceled()).toBe(true);
    expect(pauseError.cause).toBeInstanceOf(HandleClosedError);
    expect(((await modifying) as HcsError).isCanceled()).toBe(true);
    expect(await waiting).toBeInstanceOf(HandleClosedError);
    const t = hcs.fake.timeline;
    const closeAt = t.indexOf('close system sys');
    expect(t.indexOf('complete op#3 HcsPauseComputeSystem 0x800704c7')).toBeLessThan(closeAt);
    expect(t.indexOf('complete op#4 HcsModifyComputeSystem 0x800704c7')).toBeLessThan(closeAt);
    expect(hcs.fake.violations).toEqual([]);
    hcs.fake.stopSystem('sys');
  });

  it('abandons an operation HCS will not cancel after the grace period, then closes', async () => {
    vi.stubEnv('HCS_SANDBOX_TIMEOUT_CANCEL_GRACE_MS', '20');
    const system = await running();
    hcs.fake.onNext('HcsStartComputeSystem', { kind: 'hang', honourCancel: false });
    const starting = rejectionOf(system.start());
    await hcs.fake.settle();
    await system.close();
    expect(((await starting) as HcsError).isCanceled()).toBe(true);
    expect(hcs.fake.ledger.operations.abandoned).toBe(1);
    const t = hcs.fake.timeline;
    expect(t.indexOf('abandon op#3')).toBeLessThan(t.indexOf('close system sys'));
    hcs.fake.stopSystem('sys');
  });

  it('releases the event loop only when the last object closes', async () => {
    const base = eventLoopHolders();
    const a = await running('a');
    const b = await running('b');
    expect(eventLoopHolders()).toBe(base + 2);
    await a.terminate();
    await a.close();
    expect(eventLoopHolders()).toBe(base + 1);
    await b[Symbol.asyncDispose]();
    expect(eventLoopHolders()).toBe(base);
  });

  it('asyncDispose terminates a running system, then closes it', async () => {
    {
      await using system = await running('disposed');
      expect(system.closed).toBe(false);
    }
    expect(hcs.fake.system('disposed').state).toBe('Stopped');
    expect(hcs.fake.nativeCalls('HcsTerminateComputeSystem')).toHaveLength(1);
    expect(hcs.fake.nativeCalls('HcsCloseComputeSystem')).toHaveLength(1);
  });

  it('asyncDispose after close does nothing more', async () => {
    const system = await running();
    await system.terminate();
    await system.close();
    await system[Symbol.asyncDispose]();
    expect(hcs.fake.nativeCalls('HcsCloseComputeSystem')).toHaveLength(1);
  });

  it('terminates on last handle close when the document asks for it', async () => {
    const system = await ComputeSystem.create('auto', {
      ...CONTAINER_DOC,
      ShouldTerminateOnLastHandleClosed: true,
    });
    await system.start();
    await system.close();
    expect(hcs.fake.system('auto').state).toBe('Stopped');
    expect(hcs.fake.system('auto').gone).toBe(true);
    await expect(ComputeSystem.open('auto')).rejects.toSatisfy((e) => (e as HcsError).isNotFound());
  });

  it('fails create loudly when the event callback cannot be registered', async () => {
    hcs.fake.onNext('HcsSetComputeSystemCallback', { kind: 'reject', hresult: FakeHr.E_INVALIDARG });
    const error = (await rejectionOf(ComputeSystem.create('nocb', CONTAINER_DOC))) as HcsError;
    expect(error.operation).toBe('HcsSetComputeSystemCallback');
    expect(error.hresultName).toBe('E_INVALIDARG');
    expect(hcs.fake.ledger.operations.abandoned).toBe(0);
    expect(hcs.fake.violations).toEqual([]);
  });
});
