import type { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { ComputeSystem, HandleClosedError, HcsError, HcsProcess } from '../../../src/hcs/index.js';
import { eventLoopHolders } from '../../../src/hcs/keepalive.js';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { HcsEventType } from '../../../src/native/core/types.js';
import { CONTAINER_DOC, rejectionOf, useFakeHcs } from '../../support/fake-harness.js';

const hcs = useFakeHcs();

const ALL_PIPES = {
  CommandLine: 'cmd.exe /c echo hi',
  CreateStdInPipe: true,
  CreateStdOutPipe: true,
  CreateStdErrPipe: true,
};

async function running(id = 'sys'): Promise<ComputeSystem> {
  const system = await ComputeSystem.create(id, CONTAINER_DOC);
  await system.start();
  return system;
}

async function text(stream: Readable | null): Promise<string> {
  if (!stream) throw new Error('no stream');
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
}

/** Terminates and closes the system (the process handles must already be closed). */
async function finish(system: ComputeSystem): Promise<void> {
  await system.terminate();
  await system.close();
}

describe('HcsProcess.create', () => {
  it('starts a process with stdio streams over the pipe handles', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, ALL_PIPES);
    expect(proc.pid).toBe(100);
    expect(proc.system).toBe(system);
    expect(proc.exitCode).toBeUndefined();
    const guest = hcs.fake.process(proc.pid);
    expect(guest.parameters).toEqual(ALL_PIPES);
    expect(hcs.fake.ledger.stdio.returned).toBe(3);

    const stdout = text(proc.stdout);
    const stderr = text(proc.stderr);
    const stdinSeen = text(guest.stdin);
    proc.stdin?.write('input line\n');
    await proc.closeStdin();
    expect(guest.stdinClosedByHcs).toBe(true);
    guest.stdout?.write('hello ');
    guest.stdout?.write('world');
    guest.stderr?.write('warn');
    hcs.fake.exitProcess(proc.pid, 3);

    await expect(proc.wait()).resolves.toEqual({
      exitCode: 3,
      lastWaitResult: 0,
      status: { ProcessId: 100, Exited: true, ExitCode: 3, LastWaitResult: 0 },
    });
    await expect(proc.exited).resolves.toMatchObject({ exitCode: 3 });
    expect(proc.exitCode).toBe(3);
    expect(await stdout).toBe('hello world');
    expect(await stderr).toBe('warn');
    expect(await stdinSeen).toBe('input line\n');
    await proc.close();
    await finish(system);
    expect(hcs.fake.ledger.stdio).toEqual({ returned: 3, closed: 3 });
  });

  it('gives no streams that were not asked for', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, JSON.stringify({ CommandLine: 'ping' }));
    expect([proc.stdin, proc.stdout, proc.stderr]).toEqual([null, null, null]);
    await proc.terminate();
    await proc.close();
    await finish(system);
  });

  it('catches a process that exited before its callback was registered', async () => {
    const system = await running();
    hcs.fake.processScript = (p) => hcs.fake.exitProcess(p.pid, 7);
    const proc = await HcsProcess.create(system, { CommandLine: 'exit 7', CreateStdOutPipe: true });
    // No ProcessExited event reached it; the properties query after create did.
    expect(hcs.fake.timeline.some((t) => t.startsWith('event 0x10000'))).toBe(false);
    expect(proc.exitCode).toBe(7);
    await expect(proc.wait({ timeoutMs: 50 })).resolves.toMatchObject({ exitCode: 7 });
    expect(await text(proc.stdout)).toBe('');
    // Already exited: terminate and closeStdin do not reach HCS.
    const before = hcs.fake.nativeCalls().length;
    await proc.terminate();
    await proc.closeStdin();
    expect(hcs.fake.nativeCalls()).toHaveLength(before);
    await proc.close();
    await finish(system);
  });

  it('fails in a stopped system with isAlreadyStopped, and closes what it got', async () => {
    const system = await running();
    hcs.fake.stopSystem('sys');
    const error = (await rejectionOf(HcsProcess.create(system, ALL_PIPES))) as HcsError;
    expect(error.isAlreadyStopped()).toBe(true);
    expect(error.operation).toBe('HcsCreateProcess');
    await system.close();
  });

  it('fails in a system that is not running with isInvalidState', async () => {
    const system = await ComputeSystem.create('idle', CONTAINER_DOC);
    const error = (await rejectionOf(HcsProcess.create(system, ALL_PIPES))) as HcsError;
    expect(error.isInvalidState()).toBe(true);
    await finish(system);
  });

  it('reports a failure document from HCS', async () => {
    const system = await running();
    hcs.fake.onNext('HcsCreateProcess', {
      kind: 'fail',
      hresult: 0x80070002,
      document: {
        ErrorMessage: 'The system cannot find the file specified.',
        ErrorEvents: [{ Message: 'nope.exe' }],
      },
    });
    const error = (await rejectionOf(HcsProcess.create(system, { CommandLine: 'nope.exe' }))) as HcsError;
    expect(error.message).toBe(
      'HcsCreateProcess failed for system "sys": The system cannot find the file specified. (ERROR_FILE_NOT_FOUND, 0x80070002). nope.exe',
    );
    await finish(system);
  });

  it('is cancelled on abort while pending, with nothing left open', async () => {
    const system = await running();
    hcs.fake.onNext('HcsCreateProcess', { kind: 'hang' });
    const controller = new AbortController();
    const pending = rejectionOf(HcsProcess.create(system, ALL_PIPES, { signal: controller.signal }));
    await hcs.fake.settle();
    controller.abort();
    expect(((await pending) as HcsError).isCanceled()).toBe(true);
    await finish(system);
  });

  it('validates parameters and options before any native call', async () => {
    const system = await running();
    const before = hcs.fake.nativeCalls().length;
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => HcsProcess.create(system, null as unknown as object), 'parameters'],
      [() => HcsProcess.create(system, 12 as unknown as object), 'parameters'],
      [() => HcsProcess.create(system, {}, { timeoutMs: 0 }), 'timeoutMs'],
      [() => HcsProcess.open(system, 0), 'pid'],
      [() => HcsProcess.open(system, -1), 'pid'],
      [() => HcsProcess.open(system, 1.5), 'pid'],
      [() => HcsProcess.open(system, 2 ** 32), 'pid'],
      [() => HcsProcess.open(system, 5, { signal: {} as AbortSignal }), 'signal'],
    ];
    for (const [run, field] of cases) {
      const error = await rejectionOf(run());
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe(field);
    }
    expect(hcs.fake.nativeCalls()).toHaveLength(before);
    await finish(system);
  });

  it('refuses a closed system', async () => {
    const system = await running();
    await system.terminate();
    await system.close();
    await expect(HcsProcess.create(system, ALL_PIPES)).rejects.toBeInstanceOf(HandleClosedError);
    await expect(HcsProcess.open(system, 100)).rejects.toBeInstanceOf(HandleClosedError);
  });
});

describe('HcsProcess.open', () => {
  it('opens a running process by pid, without streams', async () => {
    const system = await running();
    const created = await HcsProcess.create(system, { CommandLine: 'sleep' });
    const opened = await HcsProcess.open(system, created.pid);
    expect(opened.pid).toBe(created.pid);
    expect(opened.stdout).toBeNull();
    const bothExited = Promise.all([created.wait(), opened.wait()]);
    hcs.fake.exitProcess(created.pid, 0);
    expect((await bothExited).map((e) => e.exitCode)).toEqual([0, 0]);
    await Promise.all([created.close(), opened.close()]);
    await finish(system);
  });

  it('sees at once that an opened process already exited', async () => {
    const system = await running();
    const created = await HcsProcess.create(system, { CommandLine: 'x' });
    await created.close();
    hcs.fake.exitProcess(created.pid, 9);
    const opened = await HcsProcess.open(system, created.pid);
    expect(opened.exitCode).toBe(9);
    await opened.close();
    await finish(system);
  });

  it('closes the handle it opened when the exit callback cannot be registered', async () => {
    const system = await running();
    const created = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.onNext('HcsSetProcessCallback', { kind: 'reject', hresult: 0x80070057 });
    const error = (await rejectionOf(HcsProcess.open(system, created.pid))) as HcsError;
    expect(error.operation).toBe('HcsSetProcessCallback');
    expect(hcs.fake.nativeCalls('HcsCloseProcess')).toHaveLength(1);
    await created.terminate();
    await created.close();
    await finish(system);
  });

  it('reports an unknown pid as isNotFound', async () => {
    const system = await running();
    const error = (await rejectionOf(HcsProcess.open(system, 4242))) as HcsError;
    expect(error.isNotFound()).toBe(true);
    expect(error.isAlreadyStopped()).toBe(true); // ERROR_NOT_FOUND is both, as in hcsshim
    expect(error.processId).toBe(4242);
    expect(error.message).toContain('process 4242');
    await finish(system);
  });

  it('is cancelled, without a native call, when the signal is already aborted', async () => {
    const system = await running();
    const before = hcs.fake.nativeCalls().length;
    const error = (await rejectionOf(
      HcsProcess.open(system, 100, { signal: AbortSignal.abort() }),
    )) as HcsError;
    expect(error).toBeInstanceOf(HcsError);
    expect(error.isCanceled()).toBe(true);
    expect(hcs.fake.nativeCalls()).toHaveLength(before);
    await finish(system);
  });
});

describe('HcsProcess methods', () => {
  it('sends console signals', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    await proc.signal();
    await proc.signal('CtrlBreak');
    expect(hcs.fake.process(proc.pid).signals).toEqual(['CtrlC', 'CtrlBreak']);
    expect(hcs.fake.nativeCalls('HcsSignalProcess')[0]?.args[2]).toBe('{"Signal":"CtrlC"}');
    const bad = await rejectionOf(proc.signal('SIGKILL' as 'CtrlC'));
    expect((bad as InvalidArgumentError).field).toBe('signal');
    hcs.fake.exitProcess(proc.pid);
    const late = (await rejectionOf(proc.signal())) as HcsError;
    expect(late.isAlreadyStopped()).toBe(true);
    expect(late.hresultName).toBe('HCS_E_PROCESS_ALREADY_STOPPED');
    await proc.close();
    await finish(system);
  });

  it('terminates; a terminate racing with exit counts as success', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    await proc.terminate();
    await expect(proc.wait()).resolves.toMatchObject({ exitCode: 1 });
    const other = await HcsProcess.create(system, { CommandLine: 'y' });
    for (const hresult of [0x80070005, 0x8037011f, 0x80070490]) {
      hcs.fake.onNext('HcsTerminateProcess', { kind: 'fail', hresult });
      await expect(other.terminate()).resolves.toBeUndefined();
    }
    hcs.fake.onNext('HcsTerminateProcess', { kind: 'fail', hresult: 0x8037010d });
    expect(((await rejectionOf(other.terminate())) as HcsError).isNotSupported()).toBe(true);
    await other.terminate();
    await Promise.all([proc.close(), other.close()]);
    await finish(system);
  });

  it('a terminate whose ProcessExited comes first succeeds even when the handle closes under it', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    // HCS gives no order between the exit event and the terminate's completion.
    hcs.fake.onNext('HcsTerminateProcess', { kind: 'hang', honourCancel: true });
    const killing = proc.terminate();
    await vi.waitFor(() => expect(hcs.fake.nativeCalls('HcsTerminateProcess')).toHaveLength(1));
    hcs.fake.exitProcess(proc.pid, 1);
    await proc.wait();
    await proc.close(); // what a caller does on exit: cancels the terminate still in flight
    await expect(killing).resolves.toBeUndefined();
    await finish(system);
  });

  it('a terminate the caller cancels still rejects, exited or not', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.onNext('HcsTerminateProcess', { kind: 'hang', honourCancel: true });
    const controller = new AbortController();
    const killing = rejectionOf(proc.terminate({ signal: controller.signal }));
    await vi.waitFor(() => expect(hcs.fake.nativeCalls('HcsTerminateProcess')).toHaveLength(1));
    controller.abort();
    expect(((await killing) as HcsError).canceled).toBe(true);
    await proc.terminate();
    await proc.close();
    await finish(system);
  });

  it('resizes the console and validates the size', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x', EmulateConsole: true });
    await proc.resizeConsole(120, 40);
    expect(hcs.fake.process(proc.pid).consoleSizes).toEqual([{ Height: 40, Width: 120 }]);
    const before = hcs.fake.nativeCalls().length;
    for (const [w, h, field] of [
      [0, 10, 'width'],
      [10, 0, 'height'],
      [65536, 10, 'width'],
      [10, 1.5, 'height'],
    ] as const) {
      const error = await rejectionOf(proc.resizeConsole(w, h));
      expect((error as InvalidArgumentError).field).toBe(field);
    }
    expect(hcs.fake.nativeCalls()).toHaveLength(before);
    await proc.terminate();
    await proc.close();
    await finish(system);
  });

  it('closeStdin without a stdin pipe still tells HCS, and tolerates an exited process', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    await proc.closeStdin();
    expect(hcs.fake.process(proc.pid).stdinClosedByHcs).toBe(true);
    hcs.fake.onNext('HcsModifyProcess', { kind: 'fail', hresult: 0x8037011f });
    await expect(proc.closeStdin()).resolves.toBeUndefined();
    await proc.terminate();
    await proc.close();
    await finish(system);
  });

  it('reads properties', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    await expect(proc.properties()).resolves.toEqual({
      ProcessId: proc.pid,
      Exited: false,
      ExitCode: 0,
      LastWaitResult: 0,
    });
    hcs.fake.onNext('HcsGetProcessProperties', { kind: 'succeed', document: 'not json' });
    await expect(proc.properties()).resolves.toEqual({});
    await proc.terminate();
    await proc.close();
    await finish(system);
  });

  it('wait() times out or is cancelled, and can be retried', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    const timedOut = (await rejectionOf(proc.wait({ timeoutMs: 10 }))) as HcsError;
    expect(timedOut.isTimeout()).toBe(true);
    expect(timedOut.processId).toBe(proc.pid);
    const early = (await rejectionOf(proc.wait({ signal: AbortSignal.abort() }))) as HcsError;
    expect(early.isCanceled()).toBe(true);
    const controller = new AbortController();
    const waiting = rejectionOf(proc.wait({ signal: controller.signal }));
    controller.abort();
    expect(((await waiting) as HcsError).isCanceled()).toBe(true);
    const waitingAgain = proc.wait({ timeoutMs: 1000 });
    hcs.fake.exitProcess(proc.pid, 0xc000013a);
    await expect(waitingAgain).resolves.toMatchObject({ exitCode: 0xc000013a });
    await proc.close();
    await finish(system);
  });

  it('an exit reported without ExitCode is -1, not 0', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.exitProcess(proc.pid, 0, { omitExitCode: true });
    await expect(proc.wait()).resolves.toEqual({
      exitCode: -1,
      lastWaitResult: 0,
      status: { ProcessId: proc.pid, Exited: true, LastWaitResult: 0 },
    });
    expect(proc.exitCode).toBe(-1);
    await proc.close();
    await finish(system);
  });

  it('surfaces a failed LastWaitResult, and its ExitCode does not count', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.exitProcess(proc.pid, 0, { lastWaitResult: 0x80070006 | 0 });
    await expect(proc.wait()).resolves.toMatchObject({ exitCode: -1, lastWaitResult: 0x80070006 | 0 });
    await proc.close();
    await finish(system);
  });

  it('exits with the system', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    await system.terminate();
    await expect(proc.wait()).resolves.toMatchObject({ exitCode: 0xc000013a });
    await proc.close();
    await system.close();
  });

  it('rejects waiters on ServiceDisconnect', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    const waiting = rejectionOf(proc.wait());
    hcs.fake.fireProcessEvent(proc.pid, HcsEventType.ServiceDisconnect);
    const error = (await waiting) as HcsError;
    expect(error.isServiceDisconnected()).toBe(true);
    await proc.close();
    await finish(system);
  });

  it('ignores unrelated process events', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.fireProcessEvent(proc.pid, HcsEventType.GroupOperationInfo, '{}');
    expect(proc.exitCode).toBeUndefined();
    await proc.terminate();
    await proc.close();
    await finish(system);
  });
});

describe('HcsProcess.close', () => {
  it('is idempotent, rejects waiters and later calls with HandleClosedError, keeps streams', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, ALL_PIPES);
    const waiting = rejectionOf(proc.wait());
    const exited = rejectionOf(proc.exited);
    const first = proc.close();
    expect(proc.close()).toBe(first);
    await first;
    expect(await waiting).toBeInstanceOf(HandleClosedError);
    expect(await exited).toBeInstanceOf(HandleClosedError);
    await expect(proc.wait()).rejects.toBeInstanceOf(HandleClosedError);
    await expect(proc.signal()).rejects.toBeInstanceOf(HandleClosedError);
    await expect(proc.properties()).rejects.toBeInstanceOf(HandleClosedError);
    await expect(proc.terminate()).rejects.toBeInstanceOf(HandleClosedError);
    expect(hcs.fake.nativeCalls('HcsCloseProcess')).toHaveLength(1);
    // The streams outlive the handle: output still flows until the process ends.
    const guest = hcs.fake.process(proc.pid);
    const out = text(proc.stdout);
    guest.stdout?.write('after close');
    proc.stdin?.end();
    proc.stderr?.destroy();
    await finish(system);
    expect(await out).toBe('after close');
  });

  it('cancels a pending operation and waits for it before closing the handle', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.onNext('HcsSignalProcess', { kind: 'hang' });
    const signalling = rejectionOf(proc.signal());
    const waiting = rejectionOf(proc.wait());
    await hcs.fake.settle();
    await proc.close();
    const error = (await signalling) as HcsError;
    expect(error.isCanceled()).toBe(true);
    expect(error.cause).toBeInstanceOf(HandleClosedError);
    expect(await waiting).toBeInstanceOf(HandleClosedError);
    const t = hcs.fake.timeline;
    expect(t.findIndex((e) => e.includes('HcsSignalProcess 0x800704c7'))).toBeLessThan(
      t.indexOf(`close process ${proc.pid}`),
    );
    expect(hcs.fake.violations).toEqual([]);
    await finish(system);
  });

  it('closing the system cancels pending process operations too', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.onNext('HcsGetProcessProperties', { kind: 'hang' });
    const querying = rejectionOf(proc.properties());
    await hcs.fake.settle();
    const started = Date.now();
    await system.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(((await querying) as HcsError).isCanceled()).toBe(true);
    await proc.close();
    hcs.fake.stopSystem('sys');
  });

  it('asyncDispose kills a running process, then closes', async () => {
    const system = await running();
    {
      await using proc = await HcsProcess.create(system, { CommandLine: 'x' });
      expect(proc.exitCode).toBeUndefined();
    }
    expect(hcs.fake.processes[0]?.exited).toBe(true);
    expect(hcs.fake.nativeCalls('HcsTerminateProcess')).toHaveLength(1);
    expect(hcs.fake.nativeCalls('HcsCloseProcess')).toHaveLength(1);
    await finish(system);
  });

  it('holds the event loop while open, releases it when everything closed', async () => {
    const base = eventLoopHolders();
    const system = await running();
    const a = await HcsProcess.create(system, { CommandLine: 'a' });
    const b = await HcsProcess.create(system, { CommandLine: 'b', CreateStdOutPipe: true });
    expect(eventLoopHolders()).toBe(base + 3);
    await a.close();
    expect(eventLoopHolders()).toBe(base + 2);
    await b[Symbol.asyncDispose]();
    expect(await text(b.stdout)).toBe('');
    expect(eventLoopHolders()).toBe(base + 1);
    await finish(system);
    expect(eventLoopHolders()).toBe(base);
    hcs.fake.exitProcess(a.pid);
  });

  it('fails create loudly when the exit callback cannot be registered', async () => {
    const system = await running();
    hcs.fake.onNext('HcsSetProcessCallback', { kind: 'reject', hresult: 0x80070057 });
    const error = (await rejectionOf(HcsProcess.create(system, ALL_PIPES))) as HcsError;
    expect(error.operation).toBe('HcsSetProcessCallback');
    // The create operation was awaited, not abandoned; the unmanageable process was killed.
    expect(hcs.fake.ledger.operations.abandoned).toBe(0);
    expect(hcs.fake.processes[0]?.exited).toBe(true);
    await finish(system);
  });

  it('runs 64 process operations concurrently', async () => {
    const system = await running();
    const proc = await HcsProcess.create(system, { CommandLine: 'x' });
    hcs.fake.latencyMs = 2;
    const spy = vi.fn();
    await Promise.all(
      Array.from({ length: 64 }, (_, i) => (i % 2 ? proc.properties().then(spy) : proc.signal().then(spy))),
    );
    expect(spy).toHaveBeenCalledTimes(64);
    expect(hcs.fake.process(proc.pid).signals).toHaveLength(32);
    await proc.terminate();
    await proc.close();
    await finish(system);
  });
});
