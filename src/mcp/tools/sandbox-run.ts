import { z } from 'zod';
import type { CommandHandle } from '../../sandbox/commands.js';
import {
  RUN_DEFAULT_TIMEOUT_MS,
  RUN_MAX_TIMEOUT_MS,
  RUN_OUTPUT_CHARS,
  RUN_OUTPUT_HEAD_CHARS,
  RUN_OUTPUT_KILL_CHARS,
  WRITE_FILE_BYTES,
} from '../limits.js';
import { capText } from '../output-cap.js';
import { defineTool } from '../tool.js';

export const sandboxRun = defineTool({
  name: 'sandbox_run',
  title: 'Run a command in a sandbox',
  description:
    'Runs a command inside a running sandbox and waits for it to exit; returns exitCode, stdout, stderr and ' +
    'timedOut. A non-zero exitCode is a normal result, not a tool error. The command is a Windows command line ' +
    '(e.g. "cmd /c dir C:\\\\" or "powershell -NoProfile -Command Get-Process") or an argv array. ' +
    `Each of stdout and stderr is cut to ${RUN_OUTPUT_CHARS} characters (its start and end, truncated: true ` +
    'when cut): redirect big output to a file and read parts of it. The command is killed after timeoutMs ' +
    `(default ${RUN_DEFAULT_TIMEOUT_MS}).`,
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
      // Output is held until the command exits: past a bound, kill it rather than the server's memory.
      let seen = 0;
      let overLimit = false;
      let handle: CommandHandle | undefined;
      const kill = () => void handle?.kill().catch(() => undefined);
      const count = (chunk: string) => {
        seen += chunk.length;
        if (seen > RUN_OUTPUT_KILL_CHARS && !overLimit) {
          overLimit = true;
          kill();
        }
      };
      handle = await sandbox.commands.spawn(args.command, {
        ...(args.cwd !== undefined && { cwd: args.cwd }),
        ...(args.env !== undefined && { env: args.env }),
        ...(args.stdin !== undefined && { stdin: args.stdin }),
        timeoutMs: args.timeoutMs ?? RUN_DEFAULT_TIMEOUT_MS,
        signal,
        onStdout: count,
        onStderr: count,
      });
      if (overLimit) kill(); // went over before the handle existed
      const result = await handle.wait();
      const stdout = capText(result.stdout, RUN_OUTPUT_CHARS, RUN_OUTPUT_HEAD_CHARS);
      const stderr = capText(result.stderr, RUN_OUTPUT_CHARS, RUN_OUTPUT_HEAD_CHARS);
      return {
        result: {
          exitCode: result.exitCode,
          stdout: stdout.text,
          stderr: stderr.text,
          timedOut: result.timedOut,
          truncated: stdout.truncated || stderr.truncated,
          // Killed for writing more than the server holds: exitCode is then the kill's.
          outputLimitReached: overLimit,
          durationMs: result.durationMs,
        },
      };
    });
  },
});
