import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, type SimAudit } from './audit.js';
import { newInstance, repo, runInWine, runOk } from './harness.js';

// The product's real compiled code, in the Windows build of Node under Wine,
// against the simulated computecore.dll loaded by name from system32.

describe('simulated host self-tests', () => {
  it.each([['simtest.exe'], ['storagetest.exe']])('%s passes its own C test suite', (exe) => {
    const build = process.env.HCS_TEST_HOST_BUILD ?? join(repo, '.cache', 'test-host', 'build');
    const out = execFileSync(
      'bash',
      ['-c', `cd "${build}" && wine ./${exe} > ${exe}.out 2>&1; echo "exit=$?"; cat ${exe}.out`],
      {
        env: { ...process.env, HCSSIM_INSTANCE: newInstance('selftest') },
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
    expect(out).toMatch(/exit=0/);
    expect(out).toMatch(/\b\d+ passed, 0 failed/);
  });
});

describe('compute system lifecycle through the product', () => {
  it('creates, starts, runs a process whose output is read, pauses, terminates and leaks nothing', async () => {
    const instance = newInstance();
    const r = await runOk<{
      states: string[];
      listed: { Id: string; State: string; Owner: string }[];
      stdout: string;
      stderr: string;
      exitCode: number;
      pid: number;
      exitStatus: { ExitType?: string };
      events: string[];
      holders: number;
      audit: SimAudit;
    }>('lifecycle.mjs', ['life-1'], { instance });
    expect(r.states).toEqual(['Created', 'Running', 'Paused']);
    expect(r.listed).toEqual([{ Id: 'life-1', State: 'Running', Owner: 'hcs-sandbox-tests' }]);
    expect(r.stdout.trim()).toBe('hello from the sandbox');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.pid).toBeGreaterThan(0);
    expect(r.exitStatus.ExitType).toBe('ForcedExit');
    expect(r.events).toContain('exited');
    expect(r.holders).toBe(0);
    expectNoLeaks(r.audit);
    expect(r.audit.Operations.Created).toBeGreaterThanOrEqual(8);
    expect(r.audit.Strings.Allocated).toBeGreaterThan(0);
  });
});

describe('state shared across processes', () => {
  it('a system that outlives its creator is listed, opened and terminated by another process', async () => {
    const instance = newInstance();
    await runOk('create-and-exit.mjs', ['survivor', 'outlive'], { instance });
    const second = await runOk<{
      listed: string[];
      open: { state: string };
      exitStatus: { ExitType: string };
    }>('open-system.mjs', ['survivor', 'terminate'], { instance });
    expect(second.listed).toContain('survivor');
    expect(second.open.state).toBe('Running');
    expect(second.exitStatus.ExitType).toBe('ForcedExit');
  });

  it('a system with ShouldTerminateOnLastHandleClosed dies with its creator', async () => {
    const instance = newInstance();
    await runOk('create-and-exit.mjs', ['ephemeral', 'ephemeral'], { instance });
    // The service notices the client's pipe break; give it a moment.
    let gone = false;
    for (let attempt = 0; attempt < 20 && !gone; attempt++) {
      const r = await runOk<{ listed: string[]; open: { notFound?: boolean } }>(
        'open-system.mjs',
        ['ephemeral'],
        {
          instance,
        },
      );
      gone = !r.listed.includes('ephemeral') && r.open.notFound === true;
      if (!gone) await sleep(250);
    }
    expect(gone).toBe(true);
  });
});

describe('injected faults', () => {
  it('surfaces failures, hangs, aborts and disconnects as typed HcsErrors and leaks nothing', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const run = await runInWine<Record<string, any>>('fault.mjs', [], {
      instance: newInstance(),
      env: { HCS_SANDBOX_TIMEOUT_CANCEL_GRACE_MS: '1500' },
    });
    const r = run.result;
    expect(r?.error, run.stderr).toBeUndefined();
    expect(r?.fail.hresultName).toBe('HCS_E_IMAGE_MISMATCH');
    expect(r?.fail.hresultHex).toBe('0x80370101');
    expect(r?.fail.operation).toBe('HcsStartComputeSystem');
    expect(r?.fail.message).toContain('does not match the host operating system');
    expect(r?.fail.message).toContain('image build 17763');
    expect(r?.stateAfterFail).toBe('Created');
    expect(r?.hang.timedOut).toBe(true);
    expect(r?.hang.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(r?.stateAfterHang).toBe('Running');
    expect(r?.abort.canceled).toBe(true);
    expect(r?.disconnect.disconnected).toBe(true);
    expect(r?.disconnectEvents).toContain('serviceDisconnected');
    expect(r?.failCall).toMatchObject({ hresultName: 'HCS_E_ACCESS_DENIED', accessDenied: true });
    expect(r?.delay.elapsedMs).toBeGreaterThanOrEqual(400);
    expect(r?.delay.state).toBe('Running');
    // Cancel returned E_NOTIMPL: the operation was abandoned after the 1.5 s grace, not waited on forever.
    expect(r?.abandon.timedOut).toBe(true);
    expect(r?.abandon.elapsedMs).toBeGreaterThanOrEqual(1500);
    expectNoLeaks(r?.audit);
  });
});

describe('leak audit under load', () => {
  it('200 create/start/process/terminate/close cycles leak no operation, handle or string', async () => {
    const r = await runOk<{
      cycles: number;
      outputs: number;
      holders: number;
      diagnostics: { pendingOperations: number; eventRegistrations: number; nativeCallbackSlots: number };
      audit: SimAudit;
    }>('audit-cycles.mjs', ['200', '8'], { instance: newInstance(), timeoutMs: 600_000 });
    expect(r.outputs).toBe(200);
    expect(r.holders).toBe(0);
    // koffi callback slots: one per callback type for the life of the process, never one per object.
    expect(r.diagnostics).toEqual({
      eventLoopHolders: 0,
      pendingOperations: 0,
      eventRegistrations: 0,
      nativeCallbackSlots: 2,
    });
    expectNoLeaks(r.audit);
    expect(r.audit.SystemHandles.Opened).toBe(200);
    expect(r.audit.ProcessHandles.Opened).toBe(200);
  }, 600_000);
});
