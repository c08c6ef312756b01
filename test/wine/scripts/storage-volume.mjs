// The simulated host's storage knobs against the product (issue 12 items 8
// and 9): a mount path returned without its trailing backslash, and a storage
// filter that refuses to detach a few times after its container stopped.
import { join } from 'node:path';
import { describeError, main, storage, storageSim, trace } from './storage-lib.mjs';
import { writeTransportLayer } from './transport-lib.mjs';

const [work] = process.argv.slice(2);

await main(async () => {
  storageSim({ Op: 'Reset' });
  storageSim({ Op: 'ResetAudit' });
  const source = join(work, 'extracted');
  await writeTransportLayer(source, { 'Files/f.txt': 'x' });
  const basePath = join(work, 'layers', 'base');
  await storage.importLayer(basePath, source, []);
  await storage.setupBaseLayer(basePath); // a base is set up after import, as a pull does
  const parents = [storage.layerRef(basePath)];
  const dir = join(work, 'sandboxes', 'sb');

  trace('mount path without its backslash');
  const config = storageSim({ Op: 'SetConfig', Config: { MountPathTrailingBackslash: false } });
  const layer = await storage.createScratchLayer({ dir, sizeGB: 1, parents });
  const mounted = storageSim({ Op: 'Audit' });

  trace('detach refused 3 times');
  storageSim({ Op: 'SetConfig', Config: { DetachRefusals: 3 } });
  let refusedThenOk;
  try {
    await storage.unmountScratchLayer(layer);
    refusedThenOk = { ok: true };
  } catch (e) {
    refusedThenOk = { ok: false, error: describeError(e) };
  }
  const afterRetry = storageSim({ Op: 'SetConfig', Config: {} });
  const unmounted = storageSim({ Op: 'Audit' });

  trace('detach refused more often than the product tries');
  const again = await storage.mountScratchLayer(dir, parents);
  storageSim({ Op: 'SetConfig', Config: { DetachRefusals: 100 } });
  let givenUp;
  try {
    await storage.unmountScratchLayer(again);
  } catch (e) {
    givenUp = describeError(e);
  }
  const left = storageSim({ Op: 'SetConfig', Config: {} }).DetachRefusals;
  storageSim({ Op: 'Reset' });
  await storage.destroyScratchLayer(dir);
  return {
    config,
    volumePath: layer.volumePath,
    mounted,
    refusedThenOk,
    afterRetry,
    unmounted,
    givenUp,
    left,
  };
});
