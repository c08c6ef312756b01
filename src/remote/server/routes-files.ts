import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../../internal/errors.js';
import { secureStoreRoot } from '../../storage/index.js';
import { receiveToFile, sendEmpty, sendJson } from './http-io.js';
import type { OwnedSandboxes } from './owned-sandboxes.js';
import { guestPathOf } from './requests.js';
import type { Route } from './router.js';

/** `--max-file-bytes` by default: 1 GiB. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024;

const FILES = '/v1/sandboxes/{name}/files';

/**
 * File bytes pass through a temporary file under the store root (owner-only,
 * as everything there), through the SDK's `copyIn`/`copyOut`: the server
 * holds a few chunks of a file in memory, never the whole of it.
 */
async function withTempFile<T>(root: string, use: (path: string) => Promise<T>): Promise<T> {
  await secureStoreRoot(root);
  const dir = join(root, 'serve-tmp', randomBytes(8).toString('hex'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    return await use(join(dir, 'file'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function recursiveOf(url: URL): boolean {
  const value = url.searchParams.get('recursive');
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw new InvalidArgumentError('recursive', "'true' or 'false'", value);
}

export function fileRoutes(
  sandboxes: OwnedSandboxes,
  options: { root: string; maxFileBytes: number },
): Route[] {
  return [
    {
      method: 'GET',
      template: FILES,
      auth: true,
      async handle(ctx) {
        const path = guestPathOf(ctx.url);
        const sandbox = await sandboxes.get(ctx.token, ctx.params.name as string);
        return withTempFile(options.root, async (temp) => {
          await sandbox.files.copyOut(path, temp);
          const info = await stat(temp);
          if (!info.isFile())
            throw new InvalidArgumentError('path', 'a file (list a folder with GET .../files/list)', path);
          const { size } = info;
          ctx.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
          await pipeline(createReadStream(temp), ctx.res);
          return 200;
        });
      },
    },
    {
      method: 'PUT',
      template: FILES,
      auth: true,
      async handle(ctx) {
        const path = guestPathOf(ctx.url);
        const sandbox = await sandboxes.get(ctx.token, ctx.params.name as string);
        return withTempFile(options.root, async (temp) => {
          await receiveToFile(ctx.req, temp, options.maxFileBytes);
          await sandbox.files.copyIn(temp, path);
          sendEmpty(ctx.res);
          return 204;
        });
      },
    },
    {
      method: 'DELETE',
      template: FILES,
      auth: true,
      async handle(ctx) {
        const path = guestPathOf(ctx.url);
        const recursive = recursiveOf(ctx.url);
        const sandbox = await sandboxes.get(ctx.token, ctx.params.name as string);
        await sandbox.files.remove(path, { recursive });
        sendEmpty(ctx.res);
        return 204;
      },
    },
    {
      method: 'GET',
      template: `${FILES}/list`,
      auth: true,
      async handle(ctx) {
        const path = guestPathOf(ctx.url);
        const sandbox = await sandboxes.get(ctx.token, ctx.params.name as string);
        const entries = (await sandbox.files.list(path)).map((e) => ({
          name: e.name,
          type: e.type,
          size: e.size,
          modified: e.modified ? e.modified.toISOString() : null,
        }));
        sendJson(ctx.res, 200, { entries });
        return 200;
      },
    },
  ];
}
