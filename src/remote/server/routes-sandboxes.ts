import type { SandboxLike } from '../../sandbox/sandbox-host.js';
import { OutputTooLargeError } from './errors.js';
import { readJsonObject, sendEmpty, sendJson } from './http-io.js';
import type { OwnedSandboxes } from './owned-sandboxes.js';
import { parseCreateRequest, parseRunRequest, parseStopRequest, type RunRequest } from './requests.js';
import type { Route, RouteContext } from './router.js';

/** Output `POST .../commands` collects per stream before it gives up (the stream route has no cap). */
export const DEFAULT_OUTPUT_LIMIT = 64 * 1024 * 1024;

const NAME = '/v1/sandboxes/{name}';

/** Runs a command to its end, killing it once either output passes `limit` bytes. */
async function runCapped(sandbox: SandboxLike, request: RunRequest, limit: number, signal: AbortSignal) {
  let over = false;
  let killing: Promise<void> | undefined;
  const counter = () => {
    let seen = 0;
    return (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit && !over) {
        over = true;
        killing = handle.kill().catch(() => {});
      }
    };
  };
  const handle = await sandbox.commands.spawn(request.command, {
    encoding: 'buffer',
    signal,
    ...(request.cwd !== undefined && { cwd: request.cwd }),
    ...(request.env !== undefined && { env: request.env }),
    ...(request.timeoutMs !== undefined && { timeoutMs: request.timeoutMs }),
    ...(request.stdin !== undefined && { stdin: request.stdin }),
    onStdout: counter(),
    onStderr: counter(),
  });
  const result = await handle.wait();
  await killing;
  if (over) throw new OutputTooLargeError(limit);
  const text = (b: Buffer) => b.toString(request.encoding);
  return {
    exitCode: result.exitCode,
    stdout: text(result.stdout),
    stderr: text(result.stderr),
    timedOut: result.timedOut,
  };
}

export function sandboxRoutes(sandboxes: OwnedSandboxes, options: { outputLimit: number }): Route[] {
  const info = async (ctx: RouteContext, act: (s: SandboxLike) => Promise<unknown>): Promise<number> => {
    const sandbox = await sandboxes.get(ctx.token, ctx.params.name as string);
    await act(sandbox);
    sendJson(ctx.res, 200, await sandbox.info());
    return 200;
  };
  return [
    {
      method: 'POST',
      template: '/v1/sandboxes',
      auth: true,
      async handle(ctx) {
        const request = parseCreateRequest(await readJsonObject(ctx.req));
        sendJson(ctx.res, 201, await sandboxes.create(ctx.token, request));
        return 201;
      },
    },
    {
      method: 'GET',
      template: '/v1/sandboxes',
      auth: true,
      async handle(ctx) {
        sendJson(ctx.res, 200, { sandboxes: await sandboxes.list(ctx.token) });
        return 200;
      },
    },
    { method: 'GET', template: NAME, auth: true, handle: (ctx) => info(ctx, async () => {}) },
    {
      method: 'POST',
      template: `${NAME}/stop`,
      auth: true,
      async handle(ctx) {
        const request = parseStopRequest(await readJsonObject(ctx.req));
        return info(ctx, (s) => s.stop(request));
      },
    },
    { method: 'POST', template: `${NAME}/start`, auth: true, handle: (ctx) => info(ctx, (s) => s.start()) },
    { method: 'POST', template: `${NAME}/kill`, auth: true, handle: (ctx) => info(ctx, (s) => s.kill()) },
    {
      method: 'DELETE',
      template: NAME,
      auth: true,
      async handle(ctx) {
        await sandboxes.remove(ctx.token, ctx.params.name as string);
        sendEmpty(ctx.res);
        return 204;
      },
    },
    {
      method: 'POST',
      template: `${NAME}/keepalive`,
      auth: true,
      async handle(ctx) {
        await sandboxes.get(ctx.token, ctx.params.name as string);
        sendEmpty(ctx.res);
        return 204;
      },
    },
    {
      method: 'POST',
      template: `${NAME}/commands`,
      auth: true,
      async handle(ctx) {
        const request = parseRunRequest(await readJsonObject(ctx.req));
        const sandbox = await sandboxes.get(ctx.token, ctx.params.name as string);
        sendJson(ctx.res, 200, await runCapped(sandbox, request, options.outputLimit, ctx.signal));
        return 200;
      },
    },
  ];
}
