import { InvalidArgumentError } from '../../internal/errors.js';
import type { ImageCatalog } from './backend.js';
import { wireError } from './http-errors.js';
import { readJsonObject, sendJson } from './http-io.js';
import type { Route } from './router.js';

/** Image list and pull. A pull answers 200 at once and streams NDJSON: the outcome is its last line. */
export function imageRoutes(images: ImageCatalog): Route[] {
  return [
    {
      method: 'GET',
      template: '/v1/images',
      auth: true,
      async handle(ctx) {
        sendJson(ctx.res, 200, { images: await images.list() });
        return 200;
      },
    },
    {
      method: 'POST',
      template: '/v1/images/pull',
      auth: true,
      async handle(ctx) {
        const body = await readJsonObject(ctx.req);
        for (const key of Object.keys(body))
          if (key !== 'reference')
            throw new InvalidArgumentError(key, 'one of the pull fields (reference)', body[key]);
        if (typeof body.reference !== 'string' || body.reference === '')
          throw new InvalidArgumentError('reference', 'an image reference (required)', body.reference);
        const { res } = ctx;
        res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
        const line = (value: unknown) => res.write(`${JSON.stringify(value)}\n`);
        try {
          const image = await images.pull(body.reference, {
            onProgress: (progress) => line({ type: 'progress', ...(progress as object) }),
            signal: ctx.signal,
          });
          line({ type: 'done', image });
        } catch (error) {
          line({ type: 'error', error: wireError(error).body.error });
        }
        res.end();
        return 200;
      },
    },
  ];
}
