import { ComputeSystem, runOperation } from '../../hcs/index.js';
import {
  type HandleKind,
  hostFacts,
  nativeBindings,
  type ProcessHandle,
  type Win32Handle,
} from '../../native/index.js';
import { Sandbox } from '../../sandbox/index.js';
import { fail, type ProbeContext, type ProbeItem, pass } from '../types.js';
import { needsElevation, runnableImage } from './images.js';

const FILE_TYPES: Record<number, string> = { 0: 'unknown', 1: 'disk', 2: 'char', 3: 'pipe' };
/** PIPE_SERVER_END in GetNamedPipeInfo's flags. */
const PIPE_SERVER_END = 1;

/** A started process-isolated sandbox of ours, removed by the item's undo. */
async function startSandbox(ctx: ProbeContext, name: string): Promise<Sandbox> {
  needsElevation(ctx);
  const image = await runnableImage(ctx);
  const sandbox = await Sandbox.create(
    {
      image: image.reference,
      name: `hcs-sandbox-probe-${name}-${process.pid}`,
      isolation: 'process',
      network: 'none',
      ...(ctx.home !== undefined && { home: ctx.home }),
    },
    { signal: ctx.signal },
  );
  ctx.defer(`remove sandbox ${sandbox.name}`, async () => {
    await sandbox.kill().catch(() => undefined);
    await sandbox.remove();
  });
  return sandbox;
}

function describeKind(kind: HandleKind) {
  return {
    fileType: FILE_TYPES[kind.fileType] ?? String(kind.fileType),
    namedPipeInfo: kind.pipe && {
      ...kind.pipe,
      end: kind.pipe.flags & PIPE_SERVER_END ? 'server' : 'client',
      mode: kind.pipe.flags & 4 ? 'message' : 'byte',
    },
  };
}

export const sandboxItems: ProbeItem[] = [
  {
    id: 'sandbox.run',
    title: 'a process-isolated sandbox from a local image runs a command; output, exit codes and early exits',
    rows: ['1', '6', '7', '8', 'A13'],
    timeoutMs: 300_000,
    async run(ctx) {
      const sandbox = await startSandbox(ctx, 'run');
      const echo = await sandbox.commands.run(['cmd', '/c', 'echo', 'hcs-sandbox-probe'], { reject: false });
      const exit7 = await sandbox.commands.run(['cmd', '/c', 'exit', '7'], { reject: false });
      const details = {
        sandbox: sandbox.id,
        echo: { exitCode: echo.exitCode, stdout: echo.stdout.trim(), durationMs: echo.durationMs },
        // `exit 7` ends before HcsSetProcessCallback can be set: row 7's early-exit path.
        exit7: { exitCode: exit7.exitCode, durationMs: exit7.durationMs },
      };
      if (echo.stdout.trim() !== 'hcs-sandbox-probe') return fail('the output did not arrive', details);
      if (exit7.exitCode !== 7) return fail(`exit 7 was reported as ${exit7.exitCode}`, details);
      return pass('output arrived over the stdio pipes and exit codes are right', details);
    },
  },
  {
    id: 'sandbox.stdio-pipe-kind',
    title: 'what handles HCS gives for process stdio: GetFileType and GetNamedPipeInfo',
    rows: ['6'],
    timeoutMs: 300_000,
    async run(ctx) {
      const sandbox = await startSandbox(ctx, 'pipes');
      const system = await ComputeSystem.open(sandbox.id);
      ctx.defer('close the system handle', () => system.close());
      let process: ProcessHandle | null = null;
      let close: ((p: ProcessHandle) => Promise<void>) | undefined;
      const outcome = await runOperation({
        name: 'HcsCreateProcess',
        timeout: 'QUERY',
        withProcessInfo: true,
        call: (api, op) => {
          const params = {
            CommandLine: 'cmd /c exit 0',
            CreateStdInPipe: true,
            CreateStdOutPipe: true,
            CreateStdErrPipe: true,
          };
          const created = api.createProcess(system.nativeHandle(), JSON.stringify(params), op);
          process = created.handle;
          close = (p) => api.closeProcess(p);
          return created.hr;
        },
      });
      if (process && close) {
        const handle: ProcessHandle = process;
        const closer = close;
        ctx.defer('close the process handle', () => closer(handle));
      }
      const info = outcome.processInfo;
      const handles: [string, Win32Handle | null][] = [
        ['stdin', info?.stdInput ?? null],
        ['stdout', info?.stdOutput ?? null],
        ['stderr', info?.stdError ?? null],
      ];
      const kinds: Record<string, unknown> = {};
      const { kernel32 } = nativeBindings();
      for (const [name, handle] of handles) {
        if (handle === null) {
          kinds[name] = null;
          continue;
        }
        kinds[name] = describeKind(hostFacts().handleKind(handle));
        kernel32.closeHandle(handle);
      }
      const allPipes = handles.every(
        ([name]) => (kinds[name] as { fileType?: string } | null)?.fileType === 'pipe',
      );
      return allPipes
        ? pass('all three are pipes (details say which kind)', { processId: info?.processId, ...kinds })
        : fail('a stdio handle is not a pipe', { processId: info?.processId, ...kinds });
    },
  },
];
