// Helpers for sandbox tests: a tiny Windows-format base image imported into
// hcs-sandbox's own store through the simulated HcsImportLayer.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { product } from './lib.mjs';
import { writeTransportLayer } from './transport-lib.mjs';

const { OwnImageSource, importLayer, layerRef, setupBaseLayer } = product;

/** Adds `reference` (a one-layer image for this host's build) to the store under `home`. */
export async function seedImage(home, reference = 'local/base:1', { utilityVm = false } = {}) {
  const store = new OwnImageSource({ root: home });
  if (await store.resolve(reference)) return reference; // seeded already
  const source = mkdtempSync(join(tmpdir(), 'layer-src-'));
  // The transport format HcsImportLayer takes (the simulated host refuses plain files).
  await writeTransportLayer(
    source,
    {
      'Files/hello.txt': 'from the base layer',
      // What Hyper-V isolation boots: the image's own utility VM and its scratch template.
      ...(utilityVm ? { 'UtilityVM/SystemTemplate.vhdx': 'template' } : {}),
    },
    ['Files/Windows/System32', ...(utilityVm ? ['UtilityVM/Files/EFI/Microsoft/Boot'] : [])],
  );
  // One layer per reference, so concurrent seeders of different images never collide.
  const layerDir = store.layerDir(createHash('sha256').update(reference).digest('hex'));
  await importLayer(layerDir, source, []);
  // A base layer is usable once set up where it lives (the simulated host enforces it): the product's own step.
  await setupBaseLayer(layerDir);
  const build = Number(process.env.HCS_TEST_BUILD ?? 18362);
  await store.addImage({
    reference,
    id: `sha256:${'b'.repeat(64)}`,
    source: 'hcs-sandbox',
    os: 'windows',
    osVersion: `10.0.${build}.1`,
    build,
    layers: [layerRef(layerDir)],
  });
  return reference;
}
