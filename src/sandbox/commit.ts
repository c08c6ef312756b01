import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InvalidStateError } from '../internal/errors.js';
import {
  defaultSources,
  destroyLayer,
  exportLayer,
  type ImageRecord,
  importLayer,
  layerRef,
  OwnImageSource,
  resolveImage,
} from '../storage/index.js';
import type { IsolationDriver } from './drivers/index.js';
import type { SandboxRecord } from './record.js';

/** A sandbox cannot be committed in its state or isolation. */
export class CommitUnavailableError extends InvalidStateError {
  readonly sandbox: string;

  constructor(sandbox: string, why: string) {
    super('COMMIT_UNAVAILABLE', `Sandbox ${JSON.stringify(sandbox)} cannot be committed: ${why}.`);
    this.sandbox = sandbox;
  }
}

/**
 * Turns a stopped sandbox's changes into a new image (`reference`): its
 * writable layer is exported (`HcsExportLayer`) and imported into
 * hcs-sandbox's store on top of the image it was made from, so a prepared
 * sandbox becomes the base of others.
 */
export async function commitSandbox(
  record: SandboxRecord,
  driver: IsolationDriver,
  reference: string,
  home: string,
): Promise<ImageRecord> {
  const layer = driver.writableLayer(record);
  if ('unavailable' in layer) throw new CommitUnavailableError(record.name, layer.unavailable);
  if (!record.image) throw new CommitUnavailableError(record.name, 'its record names no image');
  const store = new OwnImageSource({ root: home });
  const base = await resolveImage(record.image, { sources: defaultSources({ own: { root: home } }) });
  const work = await store.tempDir();
  const layerDir = store.layerDir(randomBytes(32).toString('hex'));
  try {
    const exported = join(work, 'export');
    await exportLayer(layer.volumePath, exported, layer.layers, { writable: true });
    await importLayer(layerDir, exported, layer.layers);
    const image: ImageRecord = {
      reference,
      id: `sha256:${randomBytes(32).toString('hex')}`,
      source: 'hcs-sandbox',
      os: 'windows',
      ...(base.osVersion !== undefined && { osVersion: base.osVersion }),
      ...(base.build !== undefined && { build: base.build }),
      created: new Date().toISOString(),
      layers: [layerRef(layerDir), ...layer.layers],
    };
    await store.addImage(image);
    return image;
  } catch (error) {
    await destroyLayer(layerDir).catch(() => undefined);
    throw error;
  } finally {
    await destroyLayer(work).catch(() => undefined);
  }
}
