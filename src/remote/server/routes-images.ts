import { InvalidArgumentError } from '../../internal/errors.js';
import type { ImageCatalog } from './backend.js';
import { wireError } from './http-errors.js';
import { readJsonObject, sendJson } from './http-io.js';
import type { Route } from './router.js';

/**
 * An image as a client sees it: the layers by id only. Their paths are the
 * server's own folders, which a client has no use for and should not learn.
 */
function publicImage(image: unknown): unknown {
  if (typeof image !== 'object' || image === null) return image;
  const { layers } = image as { layers?: unknown };
  if (!Array.isArray(layers)) return image;
  return { ...image, layers: layers.map((layer) => ({ id: (layer as { id?: unknown }).id })) };
}

/** Image list and pull. A pull answers 200 at once and streams NDJSON: the outcome is its last line. */
export function imageRoutes(images: ImageCatalog): Route[] {
  return [
    {
      method: 'GET',
      template: '/v1/images',
      auth: true,
      async handle(ctx) {
        sendJson(ctx.res, 200, { images: (await images.list()).map(publicImage) });
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
          line({ type: 'done', image: publicImage(image) });
        } catch (error) {
          line({ type: 'error', error: wireError(error).body.error });
        }
        res.end();
        return 200;
      },
    },
  ];
}
