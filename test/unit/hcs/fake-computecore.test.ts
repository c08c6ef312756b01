import { describe, expect, it } from 'vitest';
import type { CallbackSink, OperationHandle, SystemHandle } from '../../../src/native/core/types.js';
import { HcsEventType } from '../../../src/native/core/types.js';
import { FakeComputeCore, FakeHr } from '../../support/fake-computecore.js';

/** A sink that records what the fake delivers. */
function recordingSink() {
  const completed: Array<[number, OperationHandle]> = [];
  const events: Array<[number, number, string | null]> = [];
  const sink: CallbackSink = {
    operationCompleted: (key, op) => completed.push([key, op]),
    eventReceived: (key, event) => events.push([key, event.type, event.eventData]),
  };
  return { sink, completed, events };
}

async function create(fake: FakeComputeCore, id: string, doc: object = {}) {
  const op = fake.createOperation(1)!;
  const { handle } = fake.createComputeSystem(id, JSON.stringify(doc), op);
  await fake.settle();
  await fake.closeOperation(op);
  return handle!;
}

async function run(fake: FakeComputeCore, call: (op: OperationHandle) => number) {
  const op = fake.createOperation(2)!;
  expect(call(op)).toBe(0);
  await fake.settle();
  const result = fake.getOperationResult(op);
  await fake.closeOperation(op);
  return result;
}

describe('FakeComputeCore', () => {
  it('never completes an operation inside the call that started it', async () => {
    const fake = new FakeComputeCore();
    const { sink, completed } = recordingSink();
    fake.setCallbackSink(sink);
    const op = fake.createOperation(7)!;
    fake.enumerateComputeSystems(null, op);
    expect(completed).toEqual([]);
    expect(fake.getOperationResult(op).hr).toBe(FakeHr.HCS_E_OPERATION_PENDING);
    await fake.settle();
    expect(completed).toEqual([[7, op]]);
    expect(fake.getOperationResult(op)).toEqual({ hr: 0, document: '[]' });
    await fake.closeOperation(op);
    expect(fake.leaks()).toEqual([]);
  });

  it('runs the state machine with HCS error codes', async () => {
    const fake = new FakeComputeCore();
    fake.setCallbackSink(recordingSink().sink);
    const sys = await create(fake, 'a');
    const call = (name: Parameters<FakeComputeCore['systemOperation']>[0]) =>
      run(fake, (op) => fake.systemOperation(name, sys, op, null)).then((r) => r.hr);
    expect(await call('HcsPauseComputeSystem')).toBe(FakeHr.HCS_E_INVALID_STATE);
    expect(await call('HcsStartComputeSystem')).toBe(0);
    expect(await call('HcsStartComputeSystem')).toBe(FakeHr.HCS_E_INVALID_STATE);
    expect(await call('HcsPauseComputeSystem')).toBe(0);
    expect(fake.system('a').state).toBe('Paused');
    expect(await call('HcsSaveComputeSystem')).toBe(0);
    expect(await call('HcsResumeComputeSystem')).toBe(0);
    expect(await call('HcsTerminateComputeSystem')).toBe(0);
    expect(await call('HcsTerminateComputeSystem')).toBe(FakeHr.HCS_E_SYSTEM_ALREADY_STOPPED);
    expect(FakeHr.HCS_E_INVALID_STATE).toBe(0x80370105 | 0);
    await fake.closeComputeSystem(sys);
    expect(fake.system('a').gone).toBe(true);
    expect(fake.leaks()).toEqual([]);
  });

  it('reports duplicates and unknown ids', async () => {
    const fake = new FakeComputeCore();
    fake.setCallbackSink(recordingSink().sink);
    fake.addSystem('x');
    const op = fake.createOperation(1)!;
    const { handle } = fake.createComputeSystem('x', '{}', op);
    await fake.settle();
    expect(fake.getOperationResult(op).hr).toBe(FakeHr.HCS_E_SYSTEM_ALREADY_EXISTS);
    await fake.closeOperation(op);
    await fake.closeComputeSystem(handle!);
    expect(await fake.openComputeSystem('nope', 0)).toEqual({
      hr: FakeHr.HCS_E_SYSTEM_NOT_FOUND,
      handle: null,
    });
    expect(fake.leaks()).toEqual([]);
  });

  it('ledger and leaks() name what was not given back', async () => {
    const fake = new FakeComputeCore();
    fake.setCallbackSink(recordingSink().sink);
    const sys = await create(fake, 'a');
    fake.setComputeSystemCallback(sys, 0, 3);
    await run(fake, (op) => fake.systemOperation('HcsStartComputeSystem', sys, op, null));
    const op = fake.createOperation(9)!;
    const { handle: proc } = fake.createProcess(sys, '{"CreateStdOutPipe":true}', op);
    await fake.settle();
    const info = fake.getOperationResultAndProcessInfo(op).processInfo;
    expect(info.stdOutput).not.toBeNull();
    expect(fake.leaks()).toEqual([
      'operation #3 (HcsCreateProcess, completed) not closed',
      'system handle for "a" not closed',
      'process handle for pid 100 not closed',
      'stdout/err pipe of pid 100 not closed',
      '1 event callback(s) still registered',
    ]);
    expect(() => fake.assertNoLeaks()).toThrow(/leaks or misuse/);
    await fake.closeOperation(op);
    await fake.closeProcess(proc!);
    fake.pipeReadable(info.stdOutput!).destroy();
    await fake.closeComputeSystem(sys);
    expect(fake.ledger).toEqual({
      operations: { created: 3, closed: 3, abandoned: 0 },
      systemHandles: { opened: 1, closed: 1 },
      processHandles: { opened: 1, closed: 1 },
      callbacks: { registered: 1, unregistered: 1 },
      stdio: { returned: 1, closed: 1 },
    });
    expect(fake.leaks()).toEqual([]);
  });

  it('records misuse as violations', async () => {
    const fake = new FakeComputeCore();
    fake.setCallbackSink(recordingSink().sink);
    const sys = await create(fake, 'a');
    fake.onNext('HcsStartComputeSystem', { kind: 'hang' });
    const op = fake.createOperation(1)!;
    fake.systemOperation('HcsStartComputeSystem', sys, op, null);
    expect(fake.systemOperation('HcsPauseComputeSystem', sys, op, null)).toBe(
      FakeHr.HCS_E_OPERATION_ALREADY_STARTED,
    );
    await fake.closeComputeSystem(sys);
    await fake.closeComputeSystem(sys);
    await fake.closeOperation(op);
    await fake.closeOperation(op);
    fake.getOperationResult(op);
    expect(fake.closeHandle(12345n as never)).toBe(false);
    expect(fake.violations).toEqual([
      'HcsPauseComputeSystem with operation #2 already in use by HcsStartComputeSystem',
      'HcsCloseComputeSystem("a") with operation(s) pending: HcsStartComputeSystem',
      'HcsCloseComputeSystem on a closed handle',
      'HcsCloseOperation on a closed operation',
      'HcsGetOperationResult on a closed operation',
      'CloseHandle on a unknown handle',
    ]);
    expect(fake.ledger.operations.abandoned).toBe(1);
  });

  it('catches exceptions thrown into it by the sink', async () => {
    const fake = new FakeComputeCore();
    fake.setCallbackSink({
      operationCompleted: () => {
        throw new Error('bad sink');
      },
      eventReceived: () => {
        throw new Error('bad sink');
      },
    });
    const sys = await create(fake, 'a');
    fake.setComputeSystemCallback(sys, 0, 1);
    fake.fireSystemEvent('a', HcsEventType.SystemGuestConnectionClosed);
    expect(fake.sinkErrors).toHaveLength(2);
    await fake.closeComputeSystem(sys);
    expect(fake.leaks()).toHaveLength(2);
  });

  it('delivers system and process events to registered callbacks only', async () => {
    const fake = new FakeComputeCore();
    const { sink, events } = recordingSink();
    fake.setCallbackSink(sink);
    const sys = await create(fake, 'a');
    fake.setComputeSystemCallback(sys, 0, 11);
    await run(fake, (op) => fake.systemOperation('HcsStartComputeSystem', sys, op, null));
    const op = fake.createOperation(1)!;
    const { handle: proc } = fake.createProcess(sys, '{}', op);
    fake.setProcessCallback(proc!, 0, 12);
    await fake.settle();
    await fake.closeOperation(op);
    fake.stopSystem('a', 'ForcedExit');
    expect(events).toEqual([
      [
        12,
        HcsEventType.ProcessExited,
        '{"ProcessId":100,"Exited":true,"ExitCode":3221225786,"LastWaitResult":0}',
      ],
      [11, HcsEventType.SystemExited, '{"Status":0,"ExitType":"ForcedExit"}'],
    ]);
    fake.setComputeSystemCallback(sys, 0, null);
    fake.fireSystemEvent('a', HcsEventType.SystemCrashReport);
    expect(events).toHaveLength(2);
    await fake.closeProcess(proc!);
    await fake.closeComputeSystem(sys as SystemHandle);
    expect(fake.leaks()).toEqual([]);
  });
});
