import { describe, expect, it } from 'vitest';
import { newInstance, runOk } from './harness.js';

describe('sandbox command layer', () => {
  it('runs commands with output, argv quoting, stdin, env, exit errors, timeouts and streaming', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('commands.mjs', [], { instance: newInstance('cmd') });
    expect(r.hello).toEqual({ exitCode: 0, stdout: 'hello\r\n', stderr: '' });
    expect(r.argv).toBe('"two words"'); // cmd's echo prints the quotes argv quoting adds
    expect(r.stdin).toBe(1);
    expect(r.env).toBe('hi-env');
    expect(r.failed).toEqual({ isExitError: true, exitCode: 3, stderr: 'oops' });
    expect(r.noReject).toBe(4);
    expect(r.timeout).toEqual({ timedOut: true, exitCode: 1 });
    expect(r.timeoutError).toEqual(['TimeoutError', 'TIMEOUT', true, true]);
    expect(r.streamed).toEqual({ pid: true, chunks: 'streamed', stdout: 'streamed' });
    expect(r.anonymous).toBe(1); // the same through synchronous (CreatePipe) pipe ends
  });

  it('reports a missing ExitCode or a failed wait as -1', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: an untyped JSON result from the script
    const r = await runOk<Record<string, any>>('process-exits.mjs', [], { instance: newInstance('exits') });
    // Old code: a missing ExitCode read as 0.
    expect(r.omitted).toBe(-1);
    expect(r.lastWaitResult).toBe(-1);
    expect(r.normal).toBe(7);
  });
});
