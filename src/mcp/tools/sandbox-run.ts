import { z } from 'zod';
import type { CommandHandle } from '../../sandbox/commands.js';
import {
  RUN_DEFAULT_TIMEOUT_MS,
  RUN_KILL_GRACE_MS,
  RUN_MAX_TIMEOUT_MS,
  RUN_OUTPUT_CHARS,
  RUN_OUTPUT_HEAD_CHARS,
  RUN_OUTPUT_KILL_CHARS,
  WRITE_FILE_BYTES,
} from '../limits.js';
import { HeadTail } from '../output-cap.js';
import { defineTool } from '../tool.js';

export const sandboxRun = defineTool({
  name: 'sandbox_run',
  title: 'Run a command in a sandbox',
  description:
    'Runs a command inside a running sandbox and waits for it to exit; returns exitCode, stdout, stderr and ' +
    'timedOut. A non-zero exitCode is a normal result, not a tool error. The command is a Windows command line ' +
    '(e.g. "cmd /c dir C:\\" or "powershell -NoProfile -Command Get-Process") or an argv array. ' +
    `Each of stdout and stderr is cut to ${RUN_OUTPUT_CHARS} characters (its start and end, truncated: true ` +
    'when cut): redirect big output to a file and read parts of it. The command is killed after timeoutMs ' +
    `(default ${RUN_DEFAULT_TIMEOUT_MS}); exitCode is null if what it started still held its output ` +
    `${RUN_KILL_GRACE_MS / 1000} s later.`,
  input: {
    sandbox: z.string().min(1).describe('Name of a running sandbox'),
    command: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .describe('A command line, or argv (program first; quoted for Windows for you)'),
    cwd: z.string().optional().describe('Working folder inside the sandbox, e.g. C:\\work'),
    env: z.record(z.string(), z.string()).optional().describe('Extra environment variables'),
    stdin: z.string().max(WRITE_FILE_BYTES).optional().describe('Text written to the command’s stdin'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(RUN_MAX_TIMEOUT_MS)
      .optional()
      .describe(`Kill the command after this many milliseconds (default ${RUN_DEFAULT_TIMEOUT_MS})`),
  },
  annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: true },
  async run(args, { session, signal }) {
    return session.with(args.sandbox, async (sandbox) => {
      const stdout = new HeadTail(RUN_OUTPUT_CHARS, RUN_OUTPUT_HEAD_CHARS);
      const stderr = new HeadTail(RUN_OUTPUT_CHARS, RUN_OUTPUT_HEAD_CHARS);
      // The runner holds all output until the command exits: past a bound, kill it rather than the server's memory.
      let overLimit = false;
      let handle: CommandHandle | undefined;
      const kill = () => void handle?.kill().catch(() => undefined);
      const collect = (into: HeadTail) => (chunk: string) => {
        into.append(chunk);
        if (!overLimit && stdout.total + stderr.total > RUN_OUTPUT_KILL_CHARS) {
          overLimit = true;
          kill();
        }
      };
      const timeoutMs = args.timeoutMs ?? RUN_DEFAULT_TIMEOUT_MS;
      handle = await sandbox.commands.spawn(args.command, {
        ...(args.cwd !== undefined && { cwd: args.cwd }),
        ...(args.env !== undefined && { env: args.env }),
        ...(args.stdin !== undefined && { stdin: args.stdin }),
        timeoutMs,
        signal,
        onStdout: collect(stdout),
        onStderr: collect(stderr),
      });
      if (overLimit) kill(); // went over before the handle existed
      const started = performance.now();
      const exited = await settledWithin(handle.wait(), timeoutMs + RUN_KILL_GRACE_MS);
      const out = stdout.result();
      const err = stderr.result();
      return {
        result: {
          // null: killed at timeoutMs, but something it started still holds its output open.
          exitCode: exited?.exitCode ?? null,
          stdout: out.text,
          stderr: err.text,
          timedOut: exited?.timedOut ?? true,
          truncated: out.truncated || err.truncated,
          // Killed for writing more than the server holds: exitCode is then the kill's.
          outputLimitReached: overLimit,
          durationMs: exited?.durationMs ?? Math.round(performance.now() - started),
        },
      };
    });
  },
});

/** The promise's value, or undefined if it has not settled within `ms` (it may still reject later: ignored). */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
