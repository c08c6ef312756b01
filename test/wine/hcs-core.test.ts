import { describe, expect, it } from 'vitest';
import { expectNoLeaks, type SimAudit } from './audit.js';
import { newInstance, runOk } from './harness.js';

describe('every public method of the HCS layer', () => {
  it('behaves as HCS documents it, and leaks nothing', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('methods.mjs', [], { instance: newInstance('methods') });
    expect(r.schemaVersions).toContain('2.1');
    expect(r.hasCrash).toBe(true);
    expect(r.byOwner).toHaveLength(1);
    expect(r.byId).toEqual(['owner-b']);
    expect(r.byType).toBe(0);
    expect(r.duplicate).toMatchObject({ name: 'HCS_E_SYSTEM_ALREADY_EXISTS' });
    expect(r.missing).toMatchObject({ name: 'HCS_E_SYSTEM_NOT_FOUND', notFound: true });
    expect(r.startTwice).toMatchObject({ name: 'HCS_E_INVALID_STATE', invalidState: true });
    expect(r.propertyKeys).toEqual(
      expect.arrayContaining(['Id', 'State', 'Statistics', 'ProcessList', 'Memory']),
    );
    expect(r.modifyBad).toMatchObject({ name: 'HCS_E_INVALID_JSON' });
    expect(r.stdinEcho).toEqual(['from-stdin']);
    expect(r.stdinExit).toBe(0);
    expect(r.exit7).toBe(7);
    expect(r.runningProps).toMatchObject({ Exited: false, ConsoleSize: { Width: 120, Height: 40 } });
    expect(r.signalExit).toBe(0xc000013a);
    expect(r.badSignal).toBe('InvalidArgumentError');
    expect(r.terminateExit).toBe(1);
    expect(r.reopenedSawExit).toBe(1);
    expect(r.saveWhilePaused).toBe('ok');
    expect(r.shutdown).toBe('GracefulExit');
    expect(r.iterated).toEqual(['exited']);
    expect(r.afterStop).toMatchObject({ name: 'HCS_E_SYSTEM_ALREADY_STOPPED' });
    expect(r.afterClose).toBe('HandleClosedError');
    expect(r.crashExit).toBe('UnexpectedExit');
    expect(r.crashEvents).toEqual(['crashInitiated', 'crashReport', 'exited']);
    expectNoLeaks(r.audit as SimAudit);
  });
});

describe('concurrency', () => {
  it('drives 64 systems at once with a single libuv pool thread', async () => {
    const r = await runOk<{ threadpool: string; running: number; audit: SimAudit }>(
      'concurrency.mjs',
      ['64'],
      {
        instance: newInstance('conc'),
        env: { UV_THREADPOOL_SIZE: '1' },
      },
    );
    expect(r.threadpool).toBe('1');
    expect(r.running).toBe(64);
    expect(r.audit.SystemHandles.Opened).toBe(64);
    expectNoLeaks(r.audit);
  });
});

describe('processes across processes', () => {
  it('a process started by one node.exe is opened by pid and killed from another', async () => {
    const instance = newInstance('xproc');
    const { pid } = await runOk<{ pid: number }>('cross-process-open.mjs', ['xp', 'create'], { instance });
    expect(pid).toBeGreaterThan(0);
    const r = await runOk<{ before: { ProcessId: number; Exited: boolean }; exitCode: number }>(
      'cross-process-open.mjs',
      ['xp', 'kill', String(pid)],
      { instance },
    );
    expect(r.before).toMatchObject({ ProcessId: pid, Exited: false });
    expect(r.exitCode).toBe(1);
  });
});
