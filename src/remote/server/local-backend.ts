import { release } from 'node:os';
import { Sandbox } from '../../sandbox/index.js';
import {
  destroyLayer,
  importLayer,
  listImages,
  OwnImageSource,
  pullImage,
  setupBaseLayer,
} from '../../storage/index.js';
import type { ServeBackend } from './backend.js';

/** This machine's build (`10.0.20348` -> 20348), which a pulled image must not be newer than. */
function hostBuild(): number {
  return Number(release().split('.')[2] ?? 0);
}

/** The real thing: sandboxes and images of this machine's store (`HCS_SANDBOX_HOME` or the default root). */
export function localBackend(): ServeBackend {
  return {
    sandboxes: {
      create: (options) => Sandbox.create(options),
      open: (name) => Sandbox.open(name),
      list: () => Sandbox.list(),
    },
    images: {
      list: () => listImages({ onSourceError: () => {} }),
      async pull(reference, { onProgress, signal }) {
        const result = await pullImage(reference, {
          store: new OwnImageSource(),
          importLayer,
          setupBaseLayer,
          destroyLayer,
          hostBuild: hostBuild(),
          onProgress,
          signal,
        });
        return result.image;
      },
    },
  };
}
